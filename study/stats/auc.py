"""Empirical (Mann-Whitney) AUC, its DeLong covariance and case-jackknife values.

Everything works on a matrix of ratings, one row per reader x modality and
one column per case, sharing one truth vector, so a whole study is a few
rank operations (O(n log n) per row) instead of a loop over cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Placements:
    """DeLong's structural components for each row of a ratings matrix.

    ``v10[:, i]`` = P(rating of positive i beats a random negative), ties 1/2;
    ``v01[:, j]`` = P(a random positive beats negative j).  AUC = mean(v10).
    """

    auc: np.ndarray  # (k,)
    v10: np.ndarray  # (k, n_pos)
    v01: np.ndarray  # (k, n_neg)
    pos: np.ndarray  # column indices of positive cases
    neg: np.ndarray  # column indices of negative cases


def placements(truth: np.ndarray, ratings: np.ndarray) -> Placements:
    """Placement values of DeLong, DeLong & Clarke-Pearson (1988) via midranks.

    For a positive case, (rank among all cases) - (rank among positives) is
    the number of negatives it beats, ties counting 1/2 (the Mann-Whitney
    kernel); likewise for negatives.  Midranks (``rankdata``, average) make
    this exact with ties.
    """
    r = np.atleast_2d(np.asarray(ratings, dtype=float))
    t = np.asarray(truth).astype(bool)
    pos, neg = np.flatnonzero(t), np.flatnonzero(~t)
    n1, n0 = len(pos), len(neg)
    if n1 == 0 or n0 == 0:
        raise ValueError("AUC needs at least one positive and one negative case")
    rank_all = stats.rankdata(r, axis=1)
    rank_pos = stats.rankdata(r[:, pos], axis=1)
    rank_neg = stats.rankdata(r[:, neg], axis=1)
    v10 = (rank_all[:, pos] - rank_pos) / n0
    v01 = 1.0 - (rank_all[:, neg] - rank_neg) / n1
    return Placements(auc=v10.mean(axis=1), v10=v10, v01=v01, pos=pos, neg=neg)


def auc(truth: np.ndarray, rating: np.ndarray) -> float:
    """Empirical ROC area = Mann-Whitney U / (n1 n0), ties counting 1/2."""
    return float(placements(truth, rating).auc[0])


def delong_cov(p: Placements) -> np.ndarray:
    """DeLong et al. (1988) covariance matrix of the row AUCs.

    ``S = S10 / n1 + S01 / n0`` where S10, S01 are the sample covariance
    matrices (denominator n - 1) of the placement values across positives and
    negatives.
    """
    n1, n0 = p.v10.shape[1], p.v01.shape[1]
    s10 = np.cov(p.v10) if n1 > 1 else np.zeros((len(p.auc), len(p.auc)))
    s01 = np.cov(p.v01) if n0 > 1 else np.zeros((len(p.auc), len(p.auc)))
    return np.atleast_2d(s10) / n1 + np.atleast_2d(s01) / n0


def delong_se(truth: np.ndarray, rating: np.ndarray) -> float:
    """DeLong (1988) standard error of one empirical AUC."""
    return float(np.sqrt(delong_cov(placements(truth, rating))[0, 0]))


def jackknife_auc(p: Placements) -> np.ndarray:
    """Leave-one-case-out AUCs, (k, n_cases), without refitting.

    Dropping positive i removes its n0 comparisons: AUC(-i) = (n1·AUC - v10_i)
    / (n1 - 1); dropping negative j: AUC(-j) = (n0·AUC - v01_j) / (n0 - 1).
    """
    n1, n0 = p.v10.shape[1], p.v01.shape[1]
    k = len(p.auc)
    out = np.empty((k, n1 + n0))
    a = p.auc[:, None]
    out[:, p.pos] = (n1 * a - p.v10) / (n1 - 1) if n1 > 1 else np.nan
    out[:, p.neg] = (n0 * a - p.v01) / (n0 - 1) if n0 > 1 else np.nan
    return out


def jackknife_cov(values: np.ndarray) -> np.ndarray:
    """Jackknife covariance of row statistics from leave-one-out values (k, n).

    ``(n-1)/n · Σ (θ(-c) - mean)(θ'(-c) - mean')`` (Efron 1982), the estimator
    Obuchowski & Rockette (1995) and Hillis (2007) use for the OR error
    covariances.
    """
    n = values.shape[1]
    d = values - values.mean(axis=1, keepdims=True)
    return (n - 1) / n * (d @ d.T)


def roc_points(truth: np.ndarray, rating: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical ROC curve (FPF, TPF) through every distinct rating, from (0,0) to (1,1)."""
    t = np.asarray(truth).astype(bool)
    r = np.asarray(rating, dtype=float)
    cuts = np.unique(r)[::-1]
    tpf = [(r[t] >= c).mean() for c in cuts]
    fpf = [(r[~t] >= c).mean() for c in cuts]
    return np.r_[0.0, fpf], np.r_[0.0, tpf]
