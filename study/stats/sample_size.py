"""Power and sample size for an OR-Hillis MRMC comparison of two modalities.

Hillis, Obuchowski & Berbaum (2011, Acad Radiol 18:129) "Power estimation for
multireader ROC methods: an updated and unified approach"; building on
Hillis & Obuchowski's use of pilot Obuchowski-Rockette variance components.
The case-sampling components (Var, Cov1-3) scale with 1/cases, so a pilot
with c0 cases predicts them for c cases as (c0 / c)·component.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def power(
    effect: float,
    readers: int,
    cases: int,
    components: dict[str, float],
    pilot_cases: int,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Power of the RRRC OR-Hillis test of two modalities.

    With s = c0 / c, σ²_TR clamped at 0 and D = max(Cov2 - Cov3, 0)::

        den = σ²_TR + s·(Var - Cov1 + (r-1)·D)
        λ   = r·δ² / (2·den)                    (noncentrality)
        ddf = den² / {[σ²_TR + s·(Var - Cov1 - D)]² / (r-1)}
        power = P(F(1, ddf, λ) > F_{1-α}(1, ddf))
    """
    s = pilot_cases / cases
    var_tr = max(float(components["treatment_reader"]), 0.0)
    d = max(components["cov2"] - components["cov3"], 0.0)
    den = var_tr + s * (components["error"] - components["cov1"] + (readers - 1) * d)
    ncp = readers * effect**2 / (2 * den)
    base = var_tr + s * (components["error"] - components["cov1"] - d)
    ddf = den**2 / (base**2 / (readers - 1)) if base > 0 else np.inf
    crit = stats.f.ppf(1 - alpha, 1, ddf)
    return {
        "power": float(stats.ncf.sf(crit, 1, ddf, ncp)),
        "ncp": float(ncp),
        "ddf": float(ddf),
        "f_crit": float(crit),
    }


def cases_for_power(
    effect: float,
    readers: int,
    components: dict[str, float],
    pilot_cases: int,
    target: float = 0.8,
    alpha: float = 0.05,
    max_cases: int = 100_000,
) -> dict[str, float] | None:
    """Smallest number of cases with power >= target for ``readers`` readers (None if unreachable).

    Power rises monotonically with cases, so a doubling search then bisection
    finds the boundary.
    """

    def ok(c: int) -> bool:
        return power(effect, readers, c, components, pilot_cases, alpha)["power"] >= target

    hi = 10
    while not ok(hi):
        hi *= 2
        if hi > max_cases:
            return None
    lo = max(hi // 2, 1)
    if ok(lo):
        lo = 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return {"readers": readers, "cases": hi, **power(effect, readers, hi, components, pilot_cases, alpha)}


def sample_size_table(
    effect: float,
    components: dict[str, float],
    pilot_cases: int,
    readers: range | list[int] = range(3, 16),
    target: float = 0.8,
    alpha: float = 0.05,
) -> list[dict[str, float]]:
    """Cases needed for ``target`` power, one row per reader count (``cases`` None: not reachable)."""
    rows = []
    for r in readers:
        row = cases_for_power(effect, r, components, pilot_cases, target, alpha)
        rows.append(row if row is not None else {"readers": r, "cases": None, "power": None})
    return rows
