"""lhama.stats: bootstrap intervals and paired tests on known cases."""

import pytest

from lhama.stats import bootstrap_interval, mcnemar_exact, paired_comparison, sign_flip_pvalue


def test_bootstrap_interval_contains_the_mean_and_narrows_with_n():
    small = [1, 0] * 10
    large = [1, 0] * 500
    low_s, high_s = bootstrap_interval(small, resamples=2000, seed=1)
    low_l, high_l = bootstrap_interval(large, resamples=2000, seed=1)
    assert low_s <= 0.5 <= high_s and low_l <= 0.5 <= high_l
    assert high_l - low_l < (high_s - low_s) / 3
    assert bootstrap_interval(small, seed=7) == bootstrap_interval(small, seed=7)  # seeded
    assert bootstrap_interval([1, None, 0, None], seed=1)[0] >= 0  # unknown values skipped
    assert bootstrap_interval([None, None]) == (None, None) and bootstrap_interval([]) == (None, None)
    assert bootstrap_interval([1, 1, 1]) == (1.0, 1.0)


def test_mcnemar_exact_on_a_known_table():
    # discordant pairs: b right where a is wrong 8 times, the reverse once; two-sided binomial(1; 9, 0.5)
    # p = 2 * (C(9,0) + C(9,1)) / 2**9 = 20 / 512
    a = [False] * 8 + [True] + [True] * 5 + [False] * 6
    b = [True] * 8 + [False] + [True] * 5 + [False] * 6
    assert mcnemar_exact(a, b) == pytest.approx(20 / 512)
    assert mcnemar_exact([True, False], [True, False]) == 1.0
    assert mcnemar_exact(b, a) == pytest.approx(20 / 512)


def test_sign_flip_and_paired_comparison():
    # 5 equal positive differences: only the all-positive and all-negative sign patterns are as extreme
    assert sign_flip_pvalue([0.5] * 5) == pytest.approx(2 / 32)
    assert sign_flip_pvalue([0, 0]) == 1.0
    assert 0 < sign_flip_pvalue([0.2, -0.1] * 20, resamples=500) <= 1
    result = paired_comparison([0.0] * 6, [1.0] * 6, metric="f1", resamples=500)
    assert result["diff"] == 1.0 and result["diff_low"] == result["diff_high"] == 1.0
    assert result["test"] == "paired sign-flip permutation"
    result = paired_comparison([False] * 10, [True] * 8 + [False] * 2, metric="accuracy", resamples=500)
    assert result["a"] == 0.0 and result["b"] == 0.8 and result["diff"] == pytest.approx(0.8)
    assert result["diff_low"] <= 0.8 <= result["diff_high"] and result["test"] == "exact McNemar"
    assert result["p_value"] == pytest.approx(2 / 256)
