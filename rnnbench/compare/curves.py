"""Tuning curves: for each variant `rnnbench tune` tuned, the best validation score to expect after n trials, n =
1..N, and which variant leads at which budget (where the curves cross). Dodge et al., "Show Your Work" (EMNLP
2019): whether one model beats another can turn on the budget it was tuned with, so the curve says more than the
best score alone.

With the random sampler trials are drawn independently, and the curve is the expected best of n trials drawn from
the N observed (stats.expected_best). TPE chooses each trial from the earlier ones, so trials are not independent
and that estimator does not apply: its curve is the best so far after n trials, in the order they ran, one
realisation rather than an expectation.

Pure functions over finished runs (RunRecords): each trial's score is the mean validation score of its runs (its
tuning seeds), what its study was told; a pruned trial's run scores what it reached before it was stopped.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from rnnbench import stats, views
from rnnbench.selection import selection_score
from rnnbench.tasks import TASKS

MARKS = (1, 2, 5, 10, 20, 50, 100)  # the trial counts a table shows, with the last


def trial_scores(records: list, key: str) -> dict[str, dict]:
    """{variant: {"sampler": ..., "scores": [each trial's score, in trial order]}} of the tuning trials among
    `records` (runs of one experiment). Example: 4 trials of gru-uni-1x8 -> {"gru-uni-1x8": {"sampler": "random",
    "scores": [0.50, 0.62, 0.41, 0.58]}}."""
    found = defaultdict(lambda: defaultdict(list))
    samplers = {}
    for record in records:
        value = record.scores.get(key)
        if not record.tuning_trial or value is None or value != value:
            continue
        variant = record.spec.trial.study.rsplit("-", 1)[0]  # the study: the variant's name and its key
        found[variant][record.spec.trial.number].append(value)
        samplers[variant] = record.spec.trial.sampler
    return {
        variant: {"sampler": samplers[variant], "scores": [statistics.fmean(trials[n]) for n in sorted(trials)]}
        for variant, trials in found.items()
    }


def curve(scores: list[float], sampler: str | None, direction: str) -> list[float]:
    """The best score to expect after n = 1..N trials: the expected best of n independent draws (random sampler),
    else the best so far in trial order. Example: ([0.2, 0.6, 0.4], "random", "max") -> [0.4, 0.4889, 0.5333];
    ([0.2, 0.6, 0.4], "tpe", "max") -> [0.2, 0.6, 0.6]."""
    if sampler == "random":
        return stats.expected_best(scores, direction)
    best = max if direction == "max" else min
    return [best(scores[: n + 1]) for n in range(len(scores))]


def leaders(curves: dict[str, list[float]], direction: str) -> list[tuple[int, int, str]]:
    """(from n, to n, the variant ahead) for each stretch of trial counts one variant leads, over the counts every
    variant reached. Example: {"gru": [0.5, 0.6, 0.7], "lstm": [0.55, 0.6, 0.65]} -> [(1, 1, "lstm"), (2, 3,
    "gru")] (a tie goes to the variant listed first)."""
    reached = min((len(values) for values in curves.values()), default=0)
    stretches = []
    for n in range(1, reached + 1):
        pick = max if direction == "max" else min
        ahead = pick(curves, key=lambda variant: curves[variant][n - 1])
        if stretches and stretches[-1][2] == ahead:
            stretches[-1] = (stretches[-1][0], n, ahead)
        else:
            stretches.append((n, n, ahead))
    return stretches


def marks(count: int) -> list[int]:
    """The trial counts a table shows for curves of `count` trials. Example: 12 -> [1, 2, 5, 10, 12]."""
    return [n for n in MARKS if n < count] + [count]


def experiment_curves(records: list) -> dict | None:
    """One experiment's tuning curves from its finished runs (RunRecords): {"score": the validation score trials
    were told, "direction": "max" | "min", "task", "variants": {variant: {"sampler", "scores", "curve"}},
    "leaders": [[from n, to n, variant], ...]}; None where it has no tuning trials."""
    trials = [record for record in records if record.tuning_trial]
    if not trials:
        return None
    key, direction = selection_score(trials[0].spec.data)
    variants = trial_scores(trials, key)
    drawn = {variant: curve(v["scores"], v["sampler"], direction) for variant, v in variants.items()}
    return {
        "score": key,
        "direction": direction,
        "task": trials[0].task,
        "variants": {variant: {**v, "curve": drawn[variant]} for variant, v in variants.items()},
        "leaders": [list(stretch) for stretch in leaders(drawn, direction)],
    }


def table(name: str, found: dict) -> views.Table:
    """An experiment's curves (experiment_curves) at the trial counts `marks` picks, with who leads where and, for
    TPE, what its curve is."""
    longest = max(len(v["curve"]) for v in found["variants"].values())
    shown = marks(longest)
    rows = [
        [variant, v["sampler"] or "-", str(len(v["curve"]))]
        + [score_text(v["curve"][n - 1], found["score"], found["task"]) if n <= len(v["curve"]) else "" for n in shown]
        for variant, v in found["variants"].items()
    ]
    stretches = "; ".join(
        f"n {start}{'' if start == end else f'-{end}'}: {variant}" for start, end, variant in found["leaders"]
    )
    notes = [f"ahead: {stretches}"]
    if any(v["sampler"] != "random" for v in found["variants"].values()):
        notes.append(
            "tpe: the best so far, in the order trials ran (one realisation); the expected best of n trials "
            "(Dodge et al., 2019) needs independent trials: tune.sampler random"
        )
    return views.Table(
        f"{name}: tuning curves, the best {found['score'].replace('_', ' ')} after n trials",
        ["variant", "sampler", "trials", *(f"n={n}" for n in shown)],
        rows,
        right=set(range(2, 3 + len(shown))),
        notes=notes,
    )


def score_text(value: float, key: str, task: str) -> str:
    """A score as its task's tables show it. Example: (0.8123, 'validation_accuracy', 'names') -> '81.2%'."""
    label = TASKS[task].METRICS.get(key)
    if label is None:
        return f"{value:.4g}"
    return f"{value * label.scale:.{label.digits}f}{'%' if label.scale == 100 else ''}"
