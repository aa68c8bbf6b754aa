"""Does bucketed batching keep names_18's answer? Shuffled against bucketed batches, paired by cell and seed.

    python benchmarks/batching.py                       # trains benchmarks/names_18_batching.yaml (36 runs), then
                                                        # prints the paired differences (~25 min on 2 cores)
    python benchmarks/batching.py --results DIR          # the same from runs already in DIR (trains what is missing)

The experiment is experiments/names_18.yaml (all 18 languages; RNN, GRU, LSTM, uni- and bidirectional, hidden
size 128; seeds 0, 1, 2) with `grid.train.batching: [shuffled, bucketed]`, so every cell is trained both ways on
the same split, initialisation seed and epochs budget. For each (cell, direction, seed) the difference bucketed
minus shuffled is one pair; the table gives each cell's mean difference over its seeds and, over all pairs, the
mean with a paired t-test (scipy.stats.ttest_rel) and a Wilcoxon signed-rank test (scipy.stats.wilcoxon).
Needs the names corpus ($RNNBENCH_DATA_DIR or the download cache).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = REPO / "benchmarks" / "names_18_batching.yaml"
SCORES = ("test_accuracy", "test_balanced_accuracy", "test_macro_f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="results folder (default: a new temporary one)")
    parser.add_argument("--jobs", default="auto", help="passed to rnnbench run --jobs")
    args = parser.parse_args()
    results = args.results or Path(tempfile.mkdtemp(prefix="rnnbench-batching-"))
    command = [sys.executable, "-m", "rnnbench", "run", str(EXPERIMENT), "--results", str(results)]
    subprocess.run([*command, "--jobs", args.jobs], cwd=REPO, check=True, stdout=subprocess.DEVNULL)

    from scipy import stats

    from rnnbench.rundir import find_runs

    runs, problems = find_runs(results, "names_18_batching")
    if problems:
        sys.exit("\n".join(problems))
    by_pair = {}
    for run in runs:
        cell = f"{run.spec.model.cell}-{'bi' if run.spec.model.bidirectional else 'uni'}"
        by_pair.setdefault((cell, run.spec.seed), {})[run.spec.train.batching] = run.scores
    pairs = {key: both for key, both in sorted(by_pair.items()) if len(both) == 2}
    print(f"names_18, bucketed minus shuffled batches, {len(pairs)} pairs (cell x seed); percentage points\n")
    print(f"  {'cell':<10}" + "".join(f"{score:>26}" for score in SCORES))
    for cell in sorted({cell for cell, _ in pairs}):
        line = f"  {cell:<10}"
        for score in SCORES:
            diffs = [100 * (b["bucketed"][score] - b["shuffled"][score]) for (c, _), b in pairs.items() if c == cell]
            line += f"{statistics.mean(diffs):>+20.2f} ({len(diffs)})"
        print(line)
    print()
    for score in SCORES:
        bucketed = [100 * both["bucketed"][score] for both in pairs.values()]
        shuffled = [100 * both["shuffled"][score] for both in pairs.values()]
        diffs = [b - s for b, s in zip(bucketed, shuffled)]
        t_test = stats.ttest_rel(bucketed, shuffled)
        signed_rank = stats.wilcoxon(bucketed, shuffled)
        print(
            f"  {score}: shuffled {statistics.mean(shuffled):.2f}, bucketed {statistics.mean(bucketed):.2f}; "
            f"difference {statistics.mean(diffs):+.2f} (sd {statistics.stdev(diffs):.2f}, "
            f"{sum(d > 0 for d in diffs)} of {len(diffs)} pairs higher); paired t-test p = {t_test.pvalue:.3f}, "
            f"Wilcoxon p = {signed_rank.pvalue:.3f}"
        )
    print(f"\nruns in {results}")


if __name__ == "__main__":
    main()
