"""`rnnbench export tensorboard`: runs as TensorBoard event files (the `rnnbench[tensorboard]` extra, written
through torch.utils.tensorboard)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from rnnbench import yamlfile
from rnnbench.errors import RnnbenchError
from rnnbench.export import Exported, content_sha256, curves_of, final_metrics_of, only_export, run_key, times_of
from rnnbench.extras import require
from rnnbench.rundir import RunRecord

MARKER = "rnnbench-export.json"  # in each TensorBoard run folder: which run, which content


def to_tensorboard(
    runs: list[RunRecord], logdir: Path, on_run: Callable[[Exported], None] | None = None
) -> list[Exported]:
    """Write one TensorBoard event folder per run, `logdir/<run key>`: the history as scalars `epoch/<column>`
    (step = epoch), the final scores and costs as scalars `final/<name>` (step = epochs run), and the resolved
    config, the scores and the environment as text. Each folder is written in a staging folder beside `logdir`
    (outside it, where TensorBoard does not look) and renamed into place, so an export cut short leaves no
    half-written run in `logdir`; a folder already there is left as it is, a run whose files cannot be read is
    'skipped'; one export at a time writes to `logdir` (a lock file beside it). Raises RnnbenchError if TensorBoard
    is not installed or `logdir` cannot be written."""
    require("tensorboard", "export tensorboard")
    logdir = Path(logdir)
    try:
        logdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RnnbenchError(f"--logdir {logdir}: cannot make the folder ({error.strerror or error})") from None
    beside = logdir.resolve()
    done = []
    with only_export(beside):
        for run in runs:
            key, digest = run_key(run), content_sha256(run)
            target = logdir / key
            if target.exists():
                marker = _read_marker(target)
                same = marker is not None and marker.get("metrics_sha256") == digest
                done.append(Exported(key, "already there" if same else "differs", str(target)))
            else:
                try:
                    with tempfile.TemporaryDirectory(dir=beside.parent, prefix=f".{beside.name}-staging-") as staging:
                        _write_events(run, Path(staging) / "run", digest)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.rename(Path(staging) / "run", target)
                    done.append(Exported(key, "exported", str(target)))
                except RnnbenchError as error:  # a damaged run: the others go on
                    done.append(Exported(key, "skipped", str(error)))
                except OSError as error:
                    raise RnnbenchError(f"{target}: cannot write the event files ({error.strerror or error})") from None
            if on_run is not None:
                on_run(done[-1])
    return done


def _write_events(run: RunRecord, folder: Path, digest: str) -> None:
    from torch.utils.tensorboard import SummaryWriter

    _, end = times_of(run)
    writer = SummaryWriter(log_dir=str(folder))
    try:
        for name, step, value, when in curves_of(run):
            writer.add_scalar(name, value, step, walltime=when / 1000)
        final = final_metrics_of(run)
        for name, value in final.items():
            writer.add_scalar(f"final/{name}", value, run.epochs_run, walltime=end / 1000)
        writer.add_text("config", _code_block(yamlfile.dump(run.config)), 0)
        writer.add_text("scores", _markdown_table(final), 0)
        writer.add_text("environment", _markdown_table(run.environment), 0)
    finally:
        writer.close()
    (folder / MARKER).write_text(
        json.dumps({"run_key": run_key(run), "metrics_sha256": digest, "run_dir": str(run.path.resolve())}, indent=2)
        + "\n",
        encoding="utf-8",
    )


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _code_block(text: str) -> str:
    """TensorBoard's text dashboard renders Markdown: a fenced block keeps YAML's indentation."""
    return "```yaml\n" + text + "```"


def _markdown_table(mapping: dict) -> str:
    return "| name | value |\n|---|---|\n" + "\n".join(f"| {key} | {value} |" for key, value in mapping.items())
