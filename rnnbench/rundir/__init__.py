"""The run-directory format, owned here alone: `run` writes through it, `compare` and `predict` read through it.

    results/<experiment>/
        summary.csv, summary.md          the experiment's table, rewritten from all finished runs
        <variant>-<key>/seed-<seed>/     one finished run; <key> hashes the variant's exact configuration
            config.yaml                  the resolved RunSpec: repeat the run from this alone
            history.csv                  one row per epoch
            model.safetensors            weights only: loading them never executes code
            model.json                   what rebuilds the model: constructor arguments, vocabulary, labels
            metrics.json                 scores, timing, memory and the environment record
            data.json                    names runs: what cleaning and splitting did (the data hygiene report)
            predictions.csv              names runs: each test name, its language, the prediction and its probability
            checkpoint.pt                only with `run --keep-checkpoint`: the last epoch's training state
        .incomplete/                     runs being written, and the state of runs being trained (removed
                                         once empty: a finished experiment leaves no such folder):
            <key>-seed-<seed>.lock       held by the process training the run, deleted when it lets go
            <key>-seed-<seed>.checkpoint.pt   the last finished epoch's training state, replaced after each epoch
            <key>-seed-<seed>.failed.json     a failed run's error and traceback, until it finishes

A run is assembled in `.incomplete/` and moved into place with one rename, so a run directory either holds
every file or does not exist: a finished run is one whose directory exists, which is what lets an
interrupted experiment resume by skipping finished runs, and parallel processes share one results tree. A run
interrupted mid-training continues from its checkpoint's epoch.

One module a job, lowest first:
    files.py        the files of a run: their names, the format version, writing and reading each one
    record.py       RunRecord, a finished run as its readers see it, and load_run
    unfinished.py   what .incomplete/ holds of each run, listed by key and seed: the unfinished runs
    incomplete.py   everything under .incomplete/: claims, checkpoints, failures, publishing a run whole, and
                    removing what no run needs there (tidy, remove_unfinished)
    find.py         find_runs, and finished_run: the run of a spec that `run` skips; experiment_hint
This module defines nothing: it names what the rest of rnnbench uses, and every public name the single module
it grew from had.
"""

from rnnbench.rundir.files import (
    FILES,
    FORMAT_VERSION,
    is_finished,
    load_data_report,
    load_history,
    load_model_files,
    load_predictions,
    run_dir,
    write_summary,
    write_text_atomic,
)
from rnnbench.rundir.find import experiment_hint, find_runs, finished_run
from rnnbench.rundir.incomplete import (
    CHECKPOINT_KEYS,
    AlreadyFinished,
    WriteError,
    check_writable,
    checkpoint_path,
    claim,
    claim_tuning,
    clear_failure,
    failure_path,
    load_checkpoint,
    publish_files,
    record_failure,
    remove_unfinished,
    run_files,
    save_checkpoint,
    save_run,
    tidy,
)
from rnnbench.rundir.record import METRICS_KEYS, RunRecord, load_run
from rnnbench.rundir.unfinished import Unfinished, abandoned_runs, unfinished_runs

__all__ = [
    "CHECKPOINT_KEYS",
    "FILES",
    "FORMAT_VERSION",
    "METRICS_KEYS",
    "AlreadyFinished",
    "RunRecord",
    "Unfinished",
    "WriteError",
    "abandoned_runs",
    "check_writable",
    "checkpoint_path",
    "claim",
    "claim_tuning",
    "clear_failure",
    "experiment_hint",
    "failure_path",
    "find_runs",
    "finished_run",
    "is_finished",
    "load_checkpoint",
    "load_data_report",
    "load_history",
    "load_model_files",
    "load_predictions",
    "load_run",
    "publish_files",
    "record_failure",
    "remove_unfinished",
    "run_dir",
    "run_files",
    "save_checkpoint",
    "save_run",
    "tidy",
    "unfinished_runs",
    "write_summary",
    "write_text_atomic",
]
