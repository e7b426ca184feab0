"""McNemar (1947) test."""

import numpy as np
import pytest

from study.stats.mcnemar import mcnemar, paired_correctness


def test_agresti_presidential_approval():
    """Agresti, Categorical Data Analysis (2002) §10.1: 794 / 150 / 86 / 570,
    z² = (86 - 150)² / (86 + 150) = 17.36, p < 0.001."""
    res = mcnemar(150, 86)
    assert res["method"] == "chi-square"
    assert res["statistic"] == pytest.approx(17.356, abs=5e-4)
    assert res["p"] == pytest.approx(3.1e-5, rel=0.05)


def test_exact_when_few_discordant_pairs():
    # b = 1, c = 6: p = 2 · P(Bin(7, 1/2) <= 1) = 2 · 8/128 = 0.125.
    res = mcnemar(1, 6)
    assert res["method"] == "exact binomial"
    assert res["p"] == pytest.approx(0.125)
    assert mcnemar(3, 3)["p"] == 1.0
    assert mcnemar(0, 0)["p"] == 1.0


def test_paired_correctness_counts():
    a = np.array([1, 1, 0, 0, 1, 0], bool)
    b = np.array([1, 0, 1, 1, 1, 0], bool)
    res = paired_correctness(a, b)
    assert (res["b"], res["c"], res["both_correct"], res["both_wrong"]) == (1, 2, 2, 1)
