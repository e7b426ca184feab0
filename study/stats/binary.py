"""Binary decisions: confusion counts and rates with Wilson score intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Confusion:
    tp: int
    fn: int
    tn: int
    fp: int

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.tn + self.fp


def confusion(truth: np.ndarray, decision: np.ndarray) -> Confusion:
    """TP, FN, TN, FP of 0/1 decisions against 0/1 truth."""
    t = np.asarray(truth).astype(bool)
    d = np.asarray(decision).astype(bool)
    return Confusion(tp=int((t & d).sum()), fn=int((t & ~d).sum()), tn=int((~t & ~d).sum()), fp=int((~t & d).sum()))


def wilson_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval for a binomial proportion k/n.

    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``; unlike the Wald
    interval it stays inside [0, 1] and is sensible at k = 0 or k = n.
    Returns (nan, nan) when n = 0.
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    z = Z95 if level == 0.95 else float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave ~1e-18.
    lo = 0.0 if k == 0 else max(0.0, float(centre - half))
    hi = 1.0 if k == n else min(1.0, float(centre + half))
    return (lo, hi)


def mover_mean_ci(p1: float, ci1: tuple[float, float], p2: float, ci2: tuple[float, float]) -> tuple[float, float]:
    """CI of (p1 + p2) / 2 for independent proportions by MOVER (Zou & Donner 2008).

    Recovers the variance of each estimate from its own (Wilson) limits, so the
    interval inherits their asymmetry; used for SS-Avg = (sens + spec) / 2.
    """
    s = p1 + p2
    lo = s - np.sqrt((p1 - ci1[0]) ** 2 + (p2 - ci2[0]) ** 2)
    hi = s + np.sqrt((ci1[1] - p1) ** 2 + (ci2[1] - p2) ** 2)
    return (float(lo / 2), float(hi / 2))


def _rate(k: int, n: int) -> float:
    return k / n if n else float("nan")


def binary_metrics(c: Confusion, level: float = 0.95) -> dict[str, float | int | list[float]]:
    """Sensitivity, specificity, accuracy, SS-Avg, PPV, NPV, each with a CI.

    Rates use Wilson (1927) intervals; SS-Avg = (sens + spec) / 2 (the
    balanced accuracy) uses MOVER on the two Wilson intervals.
    """
    out: dict[str, float | int | list[float]] = {"tp": c.tp, "fn": c.fn, "tn": c.tn, "fp": c.fp}
    parts = {
        "sensitivity": (c.tp, c.tp + c.fn),
        "specificity": (c.tn, c.tn + c.fp),
        "accuracy": (c.tp + c.tn, c.n),
        "ppv": (c.tp, c.tp + c.fp),
        "npv": (c.tn, c.tn + c.fn),
    }
    cis = {}
    for name, (k, n) in parts.items():
        out[name] = _rate(k, n)
        cis[name] = wilson_ci(k, n, level)
        out[f"{name}_ci95"] = list(cis[name])
    se, sp = float(out["sensitivity"]), float(out["specificity"])
    out["ss_avg"] = (se + sp) / 2
    out["ss_avg_ci95"] = list(mover_mean_ci(se, cis["sensitivity"], sp, cis["specificity"]))
    return out
