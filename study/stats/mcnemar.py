"""McNemar's test for paired binary outcomes (McNemar 1947)."""

from __future__ import annotations

import numpy as np
from scipy import stats

EXACT_BELOW = 25  # discordant pairs; below this the chi-square approximation is poor


def mcnemar(b: int, c: int, exact: bool | None = None) -> dict[str, float | int | str]:
    """Test b = c for the discordant counts of a paired 2x2 table.

    ``b``: correct in the first modality only; ``c``: correct in the second
    only.  McNemar (1947): X² = (b - c)² / (b + c) on 1 df.  With fewer than
    25 discordant pairs (or ``exact=True``) the exact two-sided binomial test
    of b ~ Bin(b + c, 1/2) is used instead: p = min(1, 2·P(B <= min(b, c))).
    """
    n = b + c
    if exact is None:
        exact = n < EXACT_BELOW
    if n == 0:
        return {"b": b, "c": c, "statistic": 0.0, "p": 1.0, "method": "no discordant pairs"}
    stat = (b - c) ** 2 / n
    if exact:
        p = min(1.0, 2 * float(stats.binom.cdf(min(b, c), n, 0.5)))
        return {"b": b, "c": c, "statistic": float(stat), "p": p, "method": "exact binomial"}
    return {"b": b, "c": c, "statistic": float(stat), "p": float(stats.chi2.sf(stat, 1)), "method": "chi-square"}


def paired_correctness(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float | int | str]:
    """McNemar test of correct/incorrect for the same cases read two ways."""
    a = np.asarray(correct_a).astype(bool)
    bb = np.asarray(correct_b).astype(bool)
    out = mcnemar(int((a & ~bb).sum()), int((~a & bb).sum()))
    out["both_correct"] = int((a & bb).sum())
    out["both_wrong"] = int((~a & ~bb).sum())
    return out
