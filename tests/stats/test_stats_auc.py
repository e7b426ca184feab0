"""Empirical AUC, DeLong covariance and the O(n log n) jackknife, against brute force."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from study.stats import auc as A


def brute_auc(t, r):
    pos, neg = r[t == 1], r[t == 0]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


cases = st.integers(4, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda t: 0 < sum(t) < len(t)),
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
    )
)


@settings(max_examples=80, deadline=None)
@given(cases)
def test_auc_is_mann_whitney_with_half_ties(tr):
    t, r = np.array(tr[0]), np.array(tr[1], float)
    assert A.auc(t, r) == pytest.approx(brute_auc(t, r), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(cases)
def test_jackknife_closed_form_equals_refitting(tr):
    t, r = np.array(tr[0]), np.array(tr[1], float)
    if min(t.sum(), (1 - t).sum()) < 2:
        return
    fast = A.jackknife_auc(A.placements(t, r))[0]
    slow = [brute_auc(np.delete(t, c), np.delete(r, c)) for c in range(len(t))]
    assert fast == pytest.approx(slow, abs=1e-12)


def test_delong_matches_definition():
    rng = np.random.default_rng(1)
    t = (rng.random(60) < 0.4).astype(int)
    r = rng.normal(size=(3, 60)) + t
    p = A.placements(t, r)
    pos, neg = r[:, t == 1], r[:, t == 0]
    # DeLong et al. (1988): V10 and V01 from the kernel psi, S = S10/m + S01/n.
    psi = lambda x, y: (x > y) + 0.5 * (x == y)  # noqa: E731
    v10 = np.array([[psi(x, neg[k]).mean() for x in pos[k]] for k in range(3)])
    v01 = np.array([[psi(pos[k], y).mean() for y in neg[k]] for k in range(3)])
    s = np.cov(v10) / pos.shape[1] + np.cov(v01) / neg.shape[1]
    assert A.delong_cov(p) == pytest.approx(s, abs=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20))
def test_perfect_rating_has_auc_one(n1, n0):
    t = np.r_[np.ones(n1), np.zeros(n0)]
    assert A.auc(t, t * 10 + 1) == 1.0
    assert A.auc(t, -t) == 0.0


def test_auc_invariant_to_monotone_transform():
    rng = np.random.default_rng(2)
    t = (rng.random(80) < 0.3).astype(int)
    r = rng.normal(size=80) + t
    assert A.auc(t, np.exp(r)) == pytest.approx(A.auc(t, r))


def test_roc_points_span_unit_square():
    fpf, tpf = A.roc_points(np.array([0, 0, 1, 1]), np.array([1, 2, 2, 3]))
    assert (fpf[0], tpf[0], fpf[-1], tpf[-1]) == (0, 0, 1, 1)
    assert tpf.tolist() == [0, 0.5, 1, 1]
