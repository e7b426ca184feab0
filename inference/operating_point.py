"""A model's operating point: the score threshold chosen on a validation split.

Two rules (named in ``model.toml`` as ``threshold_rule``):

- ``youden``: maximise Youden's J = sensitivity + specificity - 1 over the
  ROC curve (Youden 1950, Cancer 3:32; Fluss et al. 2005, Biom J 47:458);
- ``sensitivity>=S``: the highest threshold whose sensitivity is at least S
  (then the best specificity there).

Thresholds lie halfway between adjacent distinct scores, so a case scoring
exactly at a validation score is not decided by float noise.  ``score`` is
"higher = more suspicious" (binary: p(positive)); positive when
``score >= threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_curve


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    rule: str
    sensitivity: float  # on the split it was chosen on
    specificity: float
    n_positive: int
    n_negative: int


def sens_spec(y: np.ndarray, score: np.ndarray, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) of ``score >= threshold`` against 0/1 truth ``y``."""
    y, pred = np.asarray(y).astype(bool), np.asarray(score) >= threshold
    return float(pred[y].mean()), float((~pred[~y]).mean())


def choose_threshold(y: np.ndarray, score: np.ndarray, rule: str = "youden") -> OperatingPoint:
    """The threshold by ``rule`` on 0/1 truth ``y`` and scores in [0, 1].

    Raises ValueError with the cause when a class is missing, the scores are
    not finite or the rule is unknown.
    """
    y, score = np.asarray(y).astype(int), np.asarray(score, dtype=float)
    if y.shape != score.shape or y.ndim != 1:
        raise ValueError(f"truth and scores need the same 1-D shape, got {y.shape} and {score.shape}")
    if not np.all(np.isfinite(score)):
        raise ValueError("scores must be finite to choose a threshold")
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if not n_pos or not n_neg:
        raise ValueError(f"a threshold needs both classes; got {n_pos} positive and {n_neg} negative cases")
    fpr, tpr, cuts = roc_curve(y, score)
    uniq = np.unique(score)
    mids = np.concatenate([[uniq[0] / 2], (uniq[1:] + uniq[:-1]) / 2, [(uniq[-1] + 1) / 2]])
    # roc_curve's cut c means "score >= c": move it down to the midpoint below c.
    below = {float(u): float(m) for u, m in zip(uniq, mids[:-1])}
    cuts = np.array([below.get(float(c), mids[-1]) for c in cuts])
    if rule == "youden":
        i = int(np.argmax(tpr - fpr))
    elif rule.startswith("sensitivity>="):
        target = float(rule.split(">=", 1)[1])
        ok = np.nonzero(tpr >= target - 1e-12)[0]
        i = int(ok[np.argmin(fpr[ok])])
    else:
        raise ValueError(f"unknown threshold rule {rule!r}; 'youden' or 'sensitivity>=S'")
    t = float(np.clip(cuts[i], 1e-6, 1 - 1e-6))
    sens, spec = sens_spec(y, score, t)
    return OperatingPoint(t, rule, sens, spec, n_pos, n_neg)
