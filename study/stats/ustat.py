"""Unbiased U-statistic covariances of figures of merit for any reading design.

Gallas (2006) "One-shot estimate of MRMC variance: AUC", Acad Radiol 13:353-362,
and Gallas, Bandos, Samuelson & Wagner (2009) "A framework for random-effects
ROC analysis: biases with the bootstrap and other variance estimators",
Commun Stat Theory Methods 38:2586-2603, write the empirical AUC of a reader in a
modality as a two-sample U-statistic with kernel s(x, y) = 1 if x > y, 1/2 if
equal, 0 otherwise, over the pairs (positive i, negative j) that reader read.
Gallas & Brown (2008) "Reader studies for validation of CAD systems", Neural
Networks 21:387-397, extend it to arbitrary designs with a design matrix
d_k(c) = 1 when row k (reader x modality) read case c: then

    Cov(A_k, A_l) = [c1 (M1 - M4) + c2 (M2 - M4) + c3 (M3 - M4)] / (n1k n0k n1l n0l)

with the moments of two kernels M1 (same positive, same negative), M2 (same
positive, different negatives), M3 (different positives, same negative), M4
(no case in common; M4 = A_k A_l), and the counts of such quadruples

    c1 = n1kl n0kl,   c2 = n1kl (n0k n0l - n0kl),   c3 = n0kl (n1k n1l - n1kl),

where n1k is the number of positives row k read and n1kl the number both rows
read.  Each moment is estimated by the average of the kernel products over
exactly the quadruples of its kind, which makes the estimator unbiased (it is
the "unbiased" covariance of MRMCaov, Smith & Hillis 2020, and iMRMC's
U-statistic variance).  Rows sharing no case get covariance 0, which is what a
split-plot design (Obuchowski 1995; Obuchowski, Gallas & Hillis 2012) assumes.

A proportion (sensitivity over the positives, specificity over the
negatives) is a one-sample U-statistic of degree 1:
Cov(p_k, p_l) = n_kl (M1 - M4) / (n_k n_l), M1 over the cases both read,
M4 over pairs of distinct cases; for one row it is p(1 - p)/(n - 1).
"""

from __future__ import annotations

import numpy as np


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def auc_cov(truth: np.ndarray, ratings: np.ndarray, read: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical AUC per row and their unbiased covariance (Gallas 2006; Gallas & Brown 2008).

    ``truth``: (c,) 0/1; ``ratings``: (k, c), any value where ``read`` is False;
    ``read``: (k, c) bool design matrix.  Returns ``(auc (k,), cov (k, k))``.
    A row needs at least two positive and two negative cases for its variance
    (M4 has no quadruple otherwise): ``ValueError`` names the rows that lack them.
    Memory is k x n1 x n0 floats.
    """
    t = np.asarray(truth).astype(bool)
    r = np.asarray(ratings, dtype=float)
    d = np.asarray(read, dtype=bool)
    d1, d0 = d[:, t].astype(float), d[:, ~t].astype(float)
    n1, n0 = d1.sum(axis=1), d0.sum(axis=1)
    short = np.flatnonzero((n1 < 2) | (n0 < 2))
    if short.size:
        raise ValueError(f"rows {short.tolist()} read fewer than two positive or two negative cases")
    x = np.where(d[:, t], r[:, t], 0.0)
    y = np.where(d[:, ~t], r[:, ~t], 0.0)
    s = (x[:, :, None] > y[:, None, :]) + 0.5 * (x[:, :, None] == y[:, None, :])
    s *= d1[:, :, None] * d0[:, None, :]
    k = s.shape[0]
    flat = s.reshape(k, -1)
    row = s.sum(axis=2)  # (k, n1): per positive, sum over its negatives
    col = s.sum(axis=1)  # (k, n0)
    tot = row.sum(axis=1)
    auc = tot / (n1 * n0)
    # einsum, not BLAS matmul: the products are sums of multiples of 1/4 (exact in any
    # order), and a multithreaded BLAS on a busy 2-core workstation was 10-40x slower.
    m1_sum = np.einsum("kp,lp->kl", flat, flat)
    rr = np.einsum("ki,li->kl", row, row)
    cc = np.einsum("kj,lj->kl", col, col)
    m2_sum = rr - m1_sum
    m3_sum = cc - m1_sum
    m4_sum = np.outer(tot, tot) - rr - cc + m1_sum
    n1kl, n0kl = np.einsum("ki,li->kl", d1, d1), np.einsum("kj,lj->kl", d0, d0)
    n1p, n0p = np.outer(n1, n1), np.outer(n0, n0)
    c1 = n1kl * n0kl
    c2 = n1kl * (n0p - n0kl)
    c3 = n0kl * (n1p - n1kl)
    c4 = (n1p - n1kl) * (n0p - n0kl)
    m1, m2, m3, m4 = _safe_div(m1_sum, c1), _safe_div(m2_sum, c2), _safe_div(m3_sum, c3), _safe_div(m4_sum, c4)
    cov = (c1 * (m1 - m4) + c2 * (m2 - m4) + c3 * (m3 - m4)) / (n1p * n0p)
    return auc, cov


def proportion_cov(hits: np.ndarray, read: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Proportions per row and their unbiased covariance (one-sample U-statistics, Hoeffding 1948).

    ``hits``: (k, n) 0/1 (a correct call on a case of the class), any value where
    ``read`` is False; ``read``: (k, n) bool.  Returns ``(p (k,), cov (k, k))``;
    ``ValueError`` if a row read fewer than two cases of the class.
    """
    d = np.asarray(read, dtype=bool)
    h = np.where(d, np.asarray(hits, dtype=float), 0.0)
    df = d.astype(float)
    n = df.sum(axis=1)
    short = np.flatnonzero(n < 2)
    if short.size:
        raise ValueError(f"rows {short.tolist()} read fewer than two cases of the class")
    tot = h.sum(axis=1)
    p = tot / n
    nkl = df @ df.T
    m1_sum = h @ h.T
    c4 = np.outer(n, n) - nkl
    m1 = _safe_div(m1_sum, nkl)
    m4 = _safe_div(np.outer(tot, tot) - m1_sum, c4)
    return p, nkl * (m1 - m4) / np.outer(n, n)
