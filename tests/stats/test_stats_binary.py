"""Confusion counts, Wilson intervals, SS-Avg."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from study.stats.binary import binary_metrics, confusion, mover_mean_ci, wilson_ci


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [  # Newcombe (1998) Stat Med 17:857, Table I, method 3 (Wilson score), 4 d.p.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_textbook_values(k, n, lo, hi):
    assert wilson_ci(k, n) == pytest.approx((lo, hi), abs=5e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_statsmodels_and_contains_p(kn):
    k, n = kn
    lo, hi = wilson_ci(k, n)
    ref = proportion_confint(k, n, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-12)
    assert 0 <= lo <= k / n <= hi <= 1


def test_confusion_and_rates():
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    dec = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1])
    c = confusion(truth, dec)
    assert (c.tp, c.fn, c.tn, c.fp) == (3, 1, 4, 2)
    m = binary_metrics(c)
    assert m["sensitivity"] == 0.75 and m["specificity"] == 4 / 6
    assert m["accuracy"] == 0.7 and m["ppv"] == 0.6 and m["npv"] == 0.8
    assert m["ss_avg"] == pytest.approx((0.75 + 4 / 6) / 2)
    assert m["sensitivity_ci95"] == pytest.approx(list(wilson_ci(3, 4)))


def test_undefined_rates_are_nan():
    m = binary_metrics(confusion(np.array([0, 0]), np.array([0, 0])))
    assert np.isnan(m["sensitivity"]) and np.isnan(m["ppv"]) and m["specificity"] == 1.0


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.data())
def test_ss_avg_mover_interval_brackets_estimate(n1, n0, data):
    k1, k0 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n0))
    p1, p0 = k1 / n1, k0 / n0
    lo, hi = mover_mean_ci(p1, wilson_ci(k1, n1), p0, wilson_ci(k0, n0))
    assert 0 <= lo <= (p1 + p0) / 2 <= hi <= 1
