"""Statistics over seeds: a confidence interval for a metric's mean, and paired tests between variants.

Each seed is one repetition of the whole experiment (its own split, initial weights and batch order), so the
seeds are the sample: a 95% interval for a variant's mean is a Student t interval over its seeds, and two
variants run on the same seeds are compared on their per-seed differences (a paired t-test), which removes
what the seeds share (the split, above all). Several variants compared with one reference are several tests:
Holm's step-down adjustment keeps the chance of calling any one of them real by luck at 5%.

Pure functions on plain numbers; the compare package applies them to runs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE


def mean_interval(values) -> dict:
    """Mean, sample standard deviation, the 95% t interval of the mean, the lowest and highest value, and how many
    there are; NaN where a statistic is undefined.

    Example: [0.80, 0.82, 0.84] -> mean 0.82, std 0.02, interval 0.82 ± 4.303 × 0.02 / √3 = [0.770, 0.870].
    One value has a mean and nothing else.
    """
    values = np.asarray([value for value in values if value is not None and not math.isnan(value)], dtype=float)
    n = len(values)
    if n == 0:
        return {
            "n": 0,
            "mean": math.nan,
            "std": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "min": math.nan,
            "max": math.nan,
        }
    mean, low, high = float(values.mean()), float(values.min()), float(values.max())
    if n == 1:
        return {"n": 1, "mean": mean, "std": math.nan, "ci_low": math.nan, "ci_high": math.nan, "min": low, "max": high}
    std = float(values.std(ddof=1))
    half = float(scipy_stats.t.ppf(1 - ALPHA / 2, n - 1)) * std / math.sqrt(n)
    return {"n": n, "mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half, "min": low, "max": high}


def paired_test(values: dict, reference: dict) -> dict:
    """Two-sided paired t-test of `values` against `reference` over the seeds both have ({seed: value} each).

    Returns the number of pairs, the mean difference (values − reference) and its p-value: NaN with fewer than
    two pairs; with differences that do not vary, 1.0 if they are all zero and NaN otherwise (a t-test cannot
    weigh a difference without spread, and three equal differences are no proof: a sign test of them gives 0.25).
    Example: {0: 0.90, 1: 0.91, 2: 0.92} against {0: 0.85, 1: 0.87, 2: 0.86} -> 3 pairs, difference 0.05,
    p 0.013.
    """
    seeds = sorted(set(values) & set(reference))
    differences = np.array([values[seed] - reference[seed] for seed in seeds], dtype=float)
    if len(differences) == 0:
        return {"pairs": 0, "difference": math.nan, "p": math.nan}
    difference = float(differences.mean())
    if len(differences) < 2:
        return {"pairs": len(differences), "difference": difference, "p": math.nan}
    if np.allclose(differences, differences[0], rtol=0, atol=1e-12):
        return {"pairs": len(differences), "difference": difference, "p": 1.0 if abs(difference) < 1e-12 else math.nan}
    p = float(scipy_stats.ttest_1samp(differences, 0.0).pvalue)
    return {"pairs": len(differences), "difference": difference, "p": p}


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of p-values from several tests; NaN (no test) stays NaN and is not counted.

    The k-th smallest of m p-values is multiplied by (m − k + 1), then made non-decreasing and capped at 1.
    Example: [0.01, 0.04, 0.03] -> [0.03, 0.06, 0.06].
    """
    tested = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted, running = list(p_values), 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, p * (len(tested) - rank)))
        adjusted[i] = running
    return adjusted


def expected_best(values, direction: str = "max") -> list[float]:
    """The expected best of n trials drawn at random (with replacement) from these N trial scores, for n = 1..N:
    Dodge et al., "Show Your Work" (EMNLP 2019), eq. 1, over the empirical distribution of the scores. With
    v_(1) <= ... <= v_(N) sorted, E[max of n] = sum_i v_(i) ((i/N)^n - ((i-1)/N)^n); n = 1 is the mean. Valid for
    trials drawn independently (random search); a sampler that learns from earlier trials (TPE) breaks that.
    `direction` "min" gives the expected lowest (a loss, MASE).

    Example: [0.2, 0.4, 0.6] -> [0.4, 0.4889, 0.5333] (n = 2: 0.2·1/9 + 0.4·3/9 + 0.6·5/9).
    """
    sign = 1.0 if direction == "max" else -1.0
    ordered = np.sort(sign * np.asarray(values, dtype=float))
    count = len(ordered)
    shares = np.arange(count + 1) / count  # i / N for i = 0..N
    return [float(sign * (ordered * (shares[1:] ** n - shares[:-1] ** n)).sum()) for n in range(1, count + 1)]
