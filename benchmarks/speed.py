"""Speed, side by side in one run: rnnbench's training epoch against a plain PyTorch loop at the same shapes, and
whole commands as a user types them (start-up included), each the median of repeats.

    python benchmarks/speed.py                 # epochs, --help, predict, names_de_it with --jobs 1 and 2 (~6 min)
    python benchmarks/speed.py --ray           # ... and names_de_it on a local Ray instance (pip install ray)
    python benchmarks/speed.py --full          # ... and every shipped experiment whole, with the old defaults
                                               #     (--jobs 1, shuffled batches) and today's (~50 min on 2 cores)

Epochs: the 18-language names data (seed 0) and a GRU with 128 hidden units, embedding 32, batch 64, Adam with
gradient clipping, as experiments/names_18.yaml trains it: rnnbench's fit() with shuffled batches and with
bucketed ones (train.batching: bucketed, the default), and the plain loop (embedding -> packed nn.GRU -> linear)
with shuffled batches of 64 and of 128. Whole commands run in fresh results folders (`python -m rnnbench ...`).
Needs the names corpus ($RNNBENCH_DATA_DIR or the download cache). Run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRU_128 = ["seeds=[0]", "grid.cell=[gru]", "grid.bidirectional=[false]"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs timed per loop (median reported)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each whole command")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="torch threads in all (default: the cores; "
        "pinned, since the load average this benchmark itself leaves would lower rnnbench's choice)",
    )
    parser.add_argument("--ray", action="store_true", help="also time names_de_it on a local Ray instance")
    parser.add_argument("--full", action="store_true", help="also time names_18 and reversal whole (long)")
    parser.add_argument("--skip-epochs", action="store_true", help="only the whole commands")
    args = parser.parse_args()

    import torch

    from rnnbench.environment import use_threads

    threads = use_threads(args.threads)
    print(
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, {threads} thread(s) for the epochs; "
        f"{time.strftime('%Y-%m-%d')}",
        flush=True,
    )
    if not args.skip_epochs:
        epochs(args.epochs)
    commands(args, threads)


# ------------------------------------------------------------------------------------------------ epochs


def names_18_gru():
    """(the run spec, its task, its prepared data: seed 0) of experiments/names_18.yaml's unidirectional GRU-128."""
    import torch

    from rnnbench import config
    from rnnbench.runner import load_source

    spec = config.load(REPO / "experiments/names_18.yaml", GRU_128).run_specs()[0]
    task = config.task_of(spec.data)
    source, _ = load_source(spec.data)
    return spec, task, task.prepare(spec.data, source, 0, torch.device("cpu"))


def epochs(count: int) -> None:
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    from rnnbench.train import fit

    spec, task, prepared = names_18_gru()
    train, validation = prepared.tensors["train"], prepared.tensors["validation"]
    print(f"\nepochs: {len(train):,} training names, {len(validation):,} validation, GRU-128, {count} epochs each")

    def rnnbench_epochs(batching: str) -> tuple[list[float], float]:
        torch.manual_seed(0)
        architecture, arguments = task.build(spec.model, spec.data, prepared.sizes)
        model = task.MODELS[architecture](**arguments)
        result = fit(
            model,
            train,
            validation,
            learning_rate=spec.train.learning_rate,
            batch_size=64,
            max_epochs=count,
            patience=0,
            grad_clip=1.0,
            weight_decay=0.0,
            generator=torch.Generator().manual_seed(0),
            score=task.validator(prepared),
            watch=task.watch(spec.data),
            bucketed=batching == "bucketed",
        )
        return [row["seconds"] for row in result.history], result.best_value

    def plain_epochs(batch_size: int) -> list[float]:
        torch.manual_seed(0)
        vocab, classes = int(train.tokens.max()) + 1, int(train.targets.max()) + 1
        embedding, gru, head = (
            nn.Embedding(vocab, 32, padding_idx=0),
            nn.GRU(32, 128, batch_first=True),
            nn.Linear(128, classes),
        )
        parameters = [*embedding.parameters(), *gru.parameters(), *head.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=spec.train.learning_rate)
        generator, seconds = torch.Generator().manual_seed(0), []
        for _ in range(count):
            start = time.perf_counter()
            order = torch.randperm(len(train), generator=generator)
            for first in range(0, len(train), batch_size):
                batch = order[first : first + batch_size]
                lengths = train.lengths[batch]
                tokens = train.tokens[batch, : int(lengths.max())]
                packed = pack_padded_sequence(embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
                _, state = gru(packed)
                loss = nn.functional.cross_entropy(head(state[-1]), train.targets[batch])
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(parameters, 1.0)
                optimizer.step()
            seconds.append(time.perf_counter() - start)  # no validation pass: the plain loop only trains
        return seconds

    rows = [
        ("rnnbench fit(), shuffled batches of 64", *rnnbench_epochs("shuffled")),
        ("rnnbench fit(), bucketed batches of 64 (default)", *rnnbench_epochs("bucketed")),
        ("plain PyTorch loop, shuffled batches of 64 (no validation)", plain_epochs(64), None),
        ("plain PyTorch loop, shuffled batches of 128 (no validation)", plain_epochs(128), None),
    ]
    for label, seconds, best in rows:
        accuracy = f"; best validation accuracy {100 * best:.1f}%" if best is not None else ""
        print(
            f"  {label}: median {statistics.median(seconds):.2f} s/epoch (min {min(seconds):.2f}, max "
            f"{max(seconds):.2f}){accuracy}",
            flush=True,
        )


# ------------------------------------------------------------------------------------------ whole commands


def timed(command: list[str], repeats: int, fresh_results: bool = True, env: dict | None = None) -> list[float]:
    """Wall seconds of `python -m rnnbench COMMAND` per repeat, each into a fresh results folder."""
    walls = []
    for _ in range(repeats):
        results = Path(tempfile.mkdtemp(prefix="rnnbench-speed-"))
        full = [sys.executable, "-m", "rnnbench", *command] + (["--results", str(results)] if fresh_results else [])
        start = time.perf_counter()
        done = subprocess.run(full, cwd=REPO, capture_output=True, text=True, env={**os.environ, **(env or {})})
        walls.append(time.perf_counter() - start)
        shutil.rmtree(results, ignore_errors=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return walls


def report(label: str, walls: list[float], runs: int | None = None) -> float:
    median = statistics.median(walls)
    rate = f"; {60 * runs / median:.1f} runs/min" if runs else ""
    print(
        f"  {label}: median {median:.2f} s (min {min(walls):.2f}, max {max(walls):.2f}, {len(walls)} repeats){rate}",
        flush=True,
    )
    return median


def commands(args, threads: int) -> None:
    print("\nwhole commands (wall seconds, start-up included)")
    report("rnnbench --help", timed(["--help"], 5, fresh_results=False))
    trained = Path(tempfile.mkdtemp(prefix="rnnbench-speed-"))
    subprocess.run(
        [sys.executable, "-m", "rnnbench", "run", "experiments/names_de_it.yaml", "--results", str(trained)],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    report(
        "rnnbench predict Tribbiani", timed(["predict", "Tribbiani", "--results", str(trained)], 5, fresh_results=False)
    )
    shutil.rmtree(trained)
    de_it = ["run", "experiments/names_de_it.yaml", "--threads", str(threads)]
    one = report(f"run names_de_it.yaml (6 runs), --jobs 1 ({threads} threads)", timed(de_it, args.repeats), runs=6)
    two = report(
        f"run names_de_it.yaml (6 runs), --jobs 2 ({threads} threads in all)",
        timed([*de_it, "--jobs", "2"], args.repeats),
        runs=6,
    )
    print(f"  --jobs 2 vs --jobs 1, runs per minute: {one / two:.2f}x", flush=True)
    if args.ray:
        ray = report(
            "run names_de_it.yaml (6 runs), --executor ray (a new local Ray instance, 1 CPU per run)",
            timed(["run", "experiments/names_de_it.yaml", "--executor", "ray"], args.repeats),
            runs=6,
        )
        print(
            f"  Ray executor overhead vs the local pool (--jobs 2): {(ray - two) / 6:+.2f} s per run "
            f"({ray - two:+.1f} s for 6 runs, Ray's start included)",
            flush=True,
        )
    if args.full:
        shipped(threads)


def shipped(threads: int) -> None:
    """Every shipped experiment, whole, with the defaults before this version (one run at a time, shuffled batches)
    and with today's (--jobs auto, bucketed batches), into fresh results folders."""
    from rnnbench import config

    print("\nshipped experiments, whole: the old defaults (--jobs 1, shuffled batches) against today's")
    names_csv = Path(tempfile.mkdtemp(prefix="rnnbench-speed-")) / "names.csv"
    subprocess.run([sys.executable, "-m", "rnnbench", "data", "names", "--csv", str(names_csv)], cwd=REPO, check=True)
    for path in sorted((REPO / "experiments").glob("*.yaml")):
        extra = ["--set", f"data.path={names_csv}"] if path.stem == "names_csv" else []
        runs = len(config.load(path, extra[1:]).run_specs())
        command = ["run", str(path.relative_to(REPO)), "--threads", str(threads), *extra]
        old = report(
            f"run {path.name} ({runs} runs), --jobs 1 --set train.batching=shuffled (the old defaults)",
            timed([*command, "--jobs", "1", "--set", "train.batching=shuffled"], 1),
            runs=runs,
        )
        new = report(f"run {path.name} ({runs} runs), the defaults", timed(command, 1), runs=runs)
        print(f"  {path.stem}: {old / new:.2f}x faster with today's defaults", flush=True)


if __name__ == "__main__":
    main()
