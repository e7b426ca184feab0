"""Distances between grade distributions (e.g. sperm motility grades A-E).

Each case has an ordered set of K grades, indexed 0..K-1 with unit spacing,
a rater distribution q (e.g. the share of 42 raters choosing each grade) and
a predicted distribution p.  Rows are normalised to sum to 1.  Per case:

* **EMD** (earth mover's distance, Wasserstein-1 on the grade line with unit
  distance between adjacent grades): Σ_k |P_k - Q_k|, P and Q the cumulative
  distributions.  0 when identical, at most K-1.
* **Average grade distance**: |E_p[g] - E_q[g]|, the gap between mean grades.
* **Entropy distance**: |H(p) - H(q)| with H(x) = -Σ x_k log2 x_k (bits),
  i.e. whether the model is as (un)certain as the raters.
* **Variance distance**: |Var_p[g] - Var_q[g]|, the gap in spread on the grade scale.
* **Max-grade precision @1**: 1 if the model's most probable grade is the
  raters' most chosen grade, else 0; **@2**: 1 if the raters' most chosen
  grade is among the model's two most probable grades.  Ties go to the lower
  grade.

The summary is the mean of each over cases.
"""

from __future__ import annotations

import numpy as np


def _norm(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, dtype=float))
    if (x < 0).any():
        raise ValueError("grade distributions must be non-negative")
    s = x.sum(axis=1, keepdims=True)
    if (s <= 0).any():
        raise ValueError("every grade distribution needs positive mass")
    return x / s


def _entropy(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(x > 0, x * np.log2(np.where(x > 0, x, 1.0)), 0.0)
    return -terms.sum(axis=1)


def grade_distances(predicted: np.ndarray, raters: np.ndarray) -> dict[str, np.ndarray]:
    """Per-case metrics (arrays of length n_cases) for (n_cases, K) distributions."""
    p, q = _norm(predicted), _norm(raters)
    if p.shape != q.shape:
        raise ValueError(f"shapes differ: {p.shape} vs {q.shape}")
    g = np.arange(p.shape[1], dtype=float)
    mp, mq = p @ g, q @ g
    vp, vq = p @ g**2 - mp**2, q @ g**2 - mq**2
    top_q = q.argmax(axis=1)
    order_p = np.argsort(-p, axis=1, kind="stable")
    return {
        "emd": np.abs(np.cumsum(p, axis=1) - np.cumsum(q, axis=1)).sum(axis=1),
        "average_grade_distance": np.abs(mp - mq),
        "entropy_distance": np.abs(_entropy(p) - _entropy(q)),
        "variance_distance": np.abs(vp - vq),
        "precision_at_1": (order_p[:, 0] == top_q).astype(float),
        "precision_at_2": (order_p[:, :2] == top_q[:, None]).any(axis=1).astype(float),
    }


def grade_summary(predicted: np.ndarray, raters: np.ndarray) -> dict[str, float]:
    """Means over cases of :func:`grade_distances`."""
    return {k: float(v.mean()) for k, v in grade_distances(predicted, raters).items()}
