"""MAE, RMSE, Pearson r, Bland-Altman."""

import numpy as np
import pytest
from scipy import stats

from study.stats.numeric import bland_altman, mae, numeric_summary, pearson, rmse

# Bland & Altman (1986) Lancet i:307, Table 1: PEFR (l/min), first reading with the
# Wright and the mini-Wright meter, 17 subjects.  Published: mean difference -2.1,
# SD 38.8, limits of agreement -79.7 to 75.5 (mean ± 2 SD), r = 0.94.
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_1986_values():
    ba = bland_altman(WRIGHT, MINI, z=2)
    assert ba["bias"] == pytest.approx(-2.1, abs=0.05)
    assert ba["sd"] == pytest.approx(38.8, abs=0.05)
    # The paper adds ±2 SD to the rounded -2.1 and 38.8, hence 0.1 tolerance.
    assert ba["loa"] == pytest.approx([-79.7, 75.5], abs=0.15)
    assert pearson(WRIGHT, MINI)["r"] == pytest.approx(0.94, abs=0.005)


def test_pearson_fisher_ci():
    x = np.arange(20.0)
    y = x + np.sin(x) * 3
    res = pearson(x, y)
    z = np.arctanh(res["r"])
    half = stats.norm.ppf(0.975) / np.sqrt(17)
    assert res["r_ci95"] == pytest.approx([np.tanh(z - half), np.tanh(z + half)])
    assert res["r"] == pytest.approx(stats.pearsonr(x, y)[0])


def test_errors():
    t, p = np.array([1.0, 2, 3, 4]), np.array([2.0, 2, 1, 4])
    assert mae(t, p) == 0.75
    assert rmse(t, p) == pytest.approx(np.sqrt(5 / 4))
    summary = numeric_summary(t, p)
    assert summary["bland_altman"]["bias"] == pytest.approx(-0.25)


def test_bland_altman_of_a_single_pair_has_no_limits():
    import math

    from study.stats.numeric import bland_altman

    ba = bland_altman([12.0], [11.0])
    assert ba["bias"] == 1.0 and math.isnan(ba["sd"]) and all(map(math.isnan, ba["loa"]))
