"""Uncertainty of the metrics: percentile bootstrap intervals over questions, and paired tests between two
variants answering the same questions (exact McNemar for correctness, sign-flip permutation for the rest)."""

from __future__ import annotations

from collections.abc import Sequence

# metrics that are a share of yes/no answers: compared with the exact McNemar test
BINARY_METRICS = ("accuracy", "own_words_accuracy")


def _values(values: Sequence[float | bool | None]):
    import numpy as np

    return np.array([np.nan if value is None else float(value) for value in values], dtype=float)


def _nanmean_rows(matrix):
    import numpy as np

    counts = np.sum(~np.isnan(matrix), axis=-1)
    sums = np.nansum(matrix, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def resample_indices(n: int, resamples: int, seed: int):
    """(resamples, n) indices drawn with replacement, seeded: the same draws for every metric of a group."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_interval(values: Sequence[float | bool | None], *, resamples: int = 2000, seed: int = 42,
                       confidence: float = 0.95, indices=None) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of the mean over questions (None values skipped in each resample); (None, None)
    when no value is known."""
    import numpy as np

    array = _values(values)
    if not len(array) or np.all(np.isnan(array)):
        return None, None
    if indices is None:
        indices = resample_indices(len(array), resamples, seed)
    means = _nanmean_rows(array[indices])
    means = means[~np.isnan(means)]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def mcnemar_exact(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs (1.0 when there are none)."""
    from scipy.stats import binomtest

    only_b = sum(1 for a, b in zip(a_correct, b_correct, strict=True) if b and not a)
    only_a = sum(1 for a, b in zip(a_correct, b_correct, strict=True) if a and not b)
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_b, only_a + only_b, 0.5).pvalue)


def sign_flip_pvalue(differences: Sequence[float], *, resamples: int = 2000, seed: int = 42) -> float:
    """Two-sided paired permutation test of a zero mean difference: the sign of each question's difference is
    flipped at random (exactly enumerated when there are at most 12 nonzero differences)."""
    import itertools

    import numpy as np

    diffs = np.asarray(differences, dtype=float)
    diffs = diffs[diffs != 0]
    if not len(diffs):
        return 1.0
    observed = abs(diffs.mean()) - 1e-12
    if len(diffs) <= 12:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(diffs))))
        return float(np.mean(np.abs((signs * diffs).mean(axis=1)) >= observed))
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(resamples, len(diffs)))
    extreme = int(np.sum(np.abs((signs * diffs).mean(axis=1)) >= observed))
    return (extreme + 1) / (resamples + 1)


def paired_comparison(a: Sequence[float | bool], b: Sequence[float | bool], *, metric: str, resamples: int = 2000,
                      seed: int = 42) -> dict:
    """b - a on paired per-question values: means, difference, paired-bootstrap 95% CI and p-value (exact McNemar
    for 0/1 correctness, sign-flip permutation otherwise)."""
    import numpy as np

    va, vb = _values(a), _values(b)
    diff = vb - va
    low, high = bootstrap_interval(diff, resamples=resamples, seed=seed)
    if metric in BINARY_METRICS:
        p_value, test = mcnemar_exact([bool(x) for x in va], [bool(x) for x in vb]), "exact McNemar"
    else:
        p_value, test = sign_flip_pvalue(diff, resamples=resamples, seed=seed), "paired sign-flip permutation"
    return {"n": int(len(diff)), "metric": metric, "a": float(np.mean(va)), "b": float(np.mean(vb)),
            "diff": float(np.mean(diff)), "diff_low": low, "diff_high": high, "p_value": p_value, "test": test}
