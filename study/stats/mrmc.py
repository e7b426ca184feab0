"""Multi-reader multi-case analysis: Obuchowski-Rockette with Hillis degrees of freedom.

Model (Obuchowski & Rockette 1995): the figure of merit of reader j in
modality i is θ_ij = μ + τ_i + R_j + (τR)_ij + ε_ij, with random readers and
the case sampling in ε, whose covariances are Var (same reader, same
modality), Cov1 (same reader, different modality), Cov2 (different reader,
same modality) and Cov3 (different reader and modality), estimated from the
case jackknife or DeLong's method and averaged.  Inference for random readers
and random cases uses Hillis' (2007) denominator degrees of freedom; the
fixed-reader and fixed-case variants follow Hillis (2007, 2014) as
implemented in MRMCaov (Smith & Hillis 2020).

Figures of merit: empirical AUC, and sensitivity / specificity of the
binary decisions.  All inputs are fully crossed: every reader reads every
case in every modality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from study.stats import auc as auc_mod

FOMS = ("auc", "sensitivity", "specificity")


@dataclass(frozen=True)
class Crossed:
    """A fully crossed study as arrays: ``ratings[i, j, c]`` for modality i, reader j, case c."""

    modalities: list[str]
    readers: list[str]
    cases: list[str]
    truth: np.ndarray  # (c,) 0/1
    ratings: np.ndarray  # (t, r, c)
    decisions: np.ndarray  # (t, r, c) 0/1


def crossed(df: pd.DataFrame, modalities: list[str] | None = None) -> Crossed:
    """Arrays of the cases every reader read in every modality (order of first appearance)."""
    mods = modalities or [str(m) for m in pd.unique(df["modality"])]
    df = df[df["modality"].isin(mods)]
    readers = [str(r) for r in pd.unique(df["reader"])]
    n_cells = len(mods) * len(readers)
    per_case = df.groupby("case", sort=False).size()
    cases = [str(c) for c in per_case.index[per_case.eq(n_cells)]]
    sub = df[df["case"].isin(cases)]
    key = pd.MultiIndex.from_product([mods, readers, cases], names=["modality", "reader", "case"])
    wide = sub.set_index(["modality", "reader", "case"])[["rating", "decision"]].reindex(key)
    shape = (len(mods), len(readers), len(cases))
    truth = sub.drop_duplicates("case").set_index("case")["truth"].reindex(cases).to_numpy(int)
    return Crossed(
        modalities=list(mods),
        readers=readers,
        cases=cases,
        truth=truth,
        ratings=wide["rating"].to_numpy(float).reshape(shape),
        decisions=wide["decision"].to_numpy(float).reshape(shape),
    )


def fom_and_cov(x: Crossed, fom: str, cov: str = "jackknife") -> tuple[np.ndarray, np.ndarray]:
    """Figures of merit (t, r) and their error covariance (t·r, t·r).

    ``cov='jackknife'``: leave-one-case-out covariance (Efron 1982), as in
    Obuchowski & Rockette (1995) and Hillis (2007).  ``cov='delong'``: DeLong
    et al. (1988), AUC only.  For sensitivity (specificity) the jackknife
    runs over the positive (negative) cases, the only ones in the
    proportion; the leave-one-out values are closed-form, (k - hit_c)/(n-1).
    """
    t, r, c = x.ratings.shape
    pos = x.truth.astype(bool)
    if fom == "auc":
        p = auc_mod.placements(x.truth, x.ratings.reshape(t * r, c))
        theta = p.auc
        if cov == "delong":
            s = auc_mod.delong_cov(p)
        elif cov == "jackknife":
            s = auc_mod.jackknife_cov(auc_mod.jackknife_auc(p))
        else:
            raise ValueError(f"unknown covariance method {cov!r}")
        return theta.reshape(t, r), s
    if cov != "jackknife":
        raise ValueError(f"covariance {cov!r} is defined for the AUC only; use 'jackknife'")
    if fom not in ("sensitivity", "specificity"):
        raise ValueError(f"unknown figure of merit {fom!r}")
    d = x.decisions.reshape(t * r, c)
    cls = pos if fom == "sensitivity" else ~pos
    hit = d[:, cls] if fom == "sensitivity" else 1.0 - d[:, cls]
    n = int(cls.sum())
    k = hit.sum(axis=1, keepdims=True)
    theta = (k / n).ravel()
    if n < 2:
        return theta.reshape(t, r), np.zeros((t * r, t * r))
    # Only the n cases of the class enter the proportion, so the jackknife runs
    # over them (as MRMCaov does); it gives Var = p(1-p)/(n-1) for one reader.
    jack = (k - hit) / (n - 1)
    return theta.reshape(t, r), auc_mod.jackknife_cov(jack)


def _covariances(s: np.ndarray, t: int, r: int) -> dict[str, float]:
    """Average Var, Cov1, Cov2, Cov3 over the (modality, reader) blocks of ``s``."""
    i = np.repeat(np.arange(t), r)
    j = np.tile(np.arange(r), t)
    same_i = i[:, None] == i[None, :]
    same_j = j[:, None] == j[None, :]

    def mean(mask: np.ndarray) -> float:
        return float(s[mask].mean()) if mask.any() else 0.0

    return {
        "error": mean(same_i & same_j),
        "cov1": mean(~same_i & same_j),
        "cov2": mean(same_i & ~same_j),
        "cov3": mean(~same_i & ~same_j),
    }


def _ci(est: float, se: float, df: float, alpha: float) -> list[float]:
    q = stats.t.ppf(1 - alpha / 2, df) if np.isfinite(df) else stats.norm.ppf(1 - alpha / 2)
    return [float(est - q * se), float(est + q * se)]


def _clip01(ci: list[float]) -> list[float]:
    """Figures of merit live in [0, 1]; so do their single-modality intervals (as in MRMCaov)."""
    return [float(min(max(v, 0.0), 1.0)) if np.isfinite(v) else v for v in ci]


def _ratio(num: float, den: float) -> float:
    if den > 0:
        return num / den
    return float("inf") if num > 0 else float("nan")


def or_hillis(
    theta: np.ndarray,
    s: np.ndarray,
    modalities: list[str],
    readers: list[str],
    alpha: float = 0.05,
) -> dict:
    """Obuchowski-Rockette (1995) test with Hillis (2007) ddf, plus fixed-factor variants.

    Random readers, random cases (RRRC)::

        F = MS(T) / [MS(T:R) + r·max(Cov2 - Cov3, 0)]
        ddf = [MS(T:R) + r·max(Cov2 - Cov3, 0)]² / {MS(T:R)² / [(t-1)(r-1)]}

    Fixed readers (FRRC): X² = (t-1)·MS(T) / [Var - Cov1 + (r-1)(Cov2 - Cov3)]
    on t-1 df.  Fixed cases (RRFC): F = MS(T) / MS(T:R) on (t-1, (t-1)(r-1)).
    Single-modality CIs (RRRC): SE² = MS(R)_i / r + max(Cov2_i, 0),
    df = [MS(R)_i + r·max(Cov2_i, 0)]² / [MS(R)_i² / (r-1)] (Hillis 2007).
    Variance components (Hillis 2007): σ²_TR = MS(T:R) - Var + Cov1 + Cov2 - Cov3,
    σ²_R = [MS(R) - MS(T:R)] / t - Cov1 + Cov3.
    """
    t, r = theta.shape
    mi = theta.mean(axis=1)
    mj = theta.mean(axis=0)
    m = theta.mean()
    ms_t = r * float(((mi - m) ** 2).sum()) / (t - 1) if t > 1 else float("nan")
    ms_r = t * float(((mj - m) ** 2).sum()) / (r - 1) if r > 1 else float("nan")
    resid = theta - mi[:, None] - mj[None, :] + m
    ms_tr = float((resid**2).sum()) / ((t - 1) * (r - 1)) if t > 1 and r > 1 else float("nan")
    cv = _covariances(s, t, r)
    var, cov1, cov2, cov3 = cv["error"], cv["cov1"], cv["cov2"], cv["cov3"]

    out: dict = {
        "modalities": list(modalities),
        "readers": list(readers),
        "estimates": {mod: float(v) for mod, v in zip(modalities, mi)},
        "per_reader": {mod: {rd: float(theta[i, j]) for j, rd in enumerate(readers)} for i, mod in enumerate(modalities)},
        "variance_components": {
            "reader": (ms_r - ms_tr) / t - cov1 + cov3 if t > 1 and r > 1 else float("nan"),
            "treatment_reader": ms_tr - var + cov1 + cov2 - cov3 if t > 1 and r > 1 else float("nan"),
            "error": var,
            "cov1": cov1,
            "cov2": cov2,
            "cov3": cov3,
            "ms_t": ms_t,
            "ms_r": ms_r,
            "ms_tr": ms_tr,
        },
    }

    # Random readers, random cases.
    den = ms_tr + r * max(cov2 - cov3, 0.0)
    ddf = _ratio(den**2, ms_tr**2 / ((t - 1) * (r - 1))) if t > 1 and r > 1 else float("nan")
    f = _ratio(ms_t, den) if t > 1 and r > 1 else float("nan")
    out.update(
        f=float(f),
        df1=t - 1,
        df2=float(ddf),
        p=float(stats.f.sf(f, t - 1, ddf)) if np.isfinite(f) and t > 1 else float("nan"),
    )
    se_diff = float(np.sqrt(2 * den / r)) if t > 1 and r > 1 else float("nan")
    pairs = [(a, b) for a in range(t) for b in range(a + 1, t)]
    out["pairwise"] = [_pair(modalities, mi, a, b, se_diff, ddf, alpha, dist="t") for a, b in pairs]
    first = out["pairwise"][0] if pairs else None
    out["difference"] = first["difference"] if first else float("nan")
    out["se"] = first["se"] if first else float("nan")
    out["ci95"] = first["ci95"] if first else [float("nan"), float("nan")]

    single = {}
    for i, mod in enumerate(modalities):
        sub = s[i * r : (i + 1) * r, i * r : (i + 1) * r]
        c2 = float(sub[~np.eye(r, dtype=bool)].mean()) if r > 1 else 0.0
        msr_i = float(theta[i].var(ddof=1)) if r > 1 else float("nan")
        se_i = float(np.sqrt(msr_i / r + max(c2, 0.0))) if r > 1 else float("nan")
        df_i = _ratio((msr_i + r * max(c2, 0.0)) ** 2, msr_i**2 / (r - 1)) if r > 1 else float("nan")
        single[mod] = {
            "estimate": float(mi[i]),
            "ms_r": msr_i,
            "cov2": c2,
            "se": se_i,
            "df": float(df_i),
            "ci95": _clip01(_ci(float(mi[i]), se_i, df_i, alpha)),
            "var_error": float(np.diag(sub).mean()),
        }
    out["single_modality"] = single

    # Fixed readers, random cases.
    den_fr = var - cov1 + (r - 1) * (cov2 - cov3)
    x2 = (t - 1) * _ratio(ms_t, den_fr) if t > 1 else float("nan")
    se_fr = float(np.sqrt(2 * den_fr / r)) if den_fr > 0 else float("nan")
    per_reader = []
    for j, rd in enumerate(readers):
        if t < 2:
            break
        a, b = j, r + j
        v = s[a, a] + s[b, b] - 2 * s[a, b]
        diff = float(theta[0, j] - theta[1, j])
        se = float(np.sqrt(v)) if v > 0 else 0.0
        z = diff / se if se > 0 else float("nan")
        per_reader.append(
            {
                "reader": rd,
                "difference": diff,
                "se": se,
                "ci95": _ci(diff, se, np.inf, alpha),
                "z": z,
                "p": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
            }
        )
    out["fixed_readers"] = {
        "chi2": float(x2),
        "df": t - 1,
        "p": float(stats.chi2.sf(x2, t - 1)) if np.isfinite(x2) and t > 1 else float("nan"),
        "pairwise": [_pair(modalities, mi, a, b, se_fr, np.inf, alpha, dist="z") for a, b in pairs],
        "single_modality": {
            mod: {
                "estimate": float(mi[i]),
                "se": float(np.sqrt((single[mod]["var_error"] + (r - 1) * single[mod]["cov2"]) / r)),
                "ci95": _clip01(
                    _ci(
                        float(mi[i]),
                        float(np.sqrt((single[mod]["var_error"] + (r - 1) * single[mod]["cov2"]) / r)),
                        np.inf,
                        alpha,
                    )
                ),
            }
            for i, mod in enumerate(modalities)
        },
        "per_reader": per_reader,
        "single_reader_se": {
            mod: {rd: float(np.sqrt(max(s[i * r + j, i * r + j], 0.0))) for j, rd in enumerate(readers)}
            for i, mod in enumerate(modalities)
        },
    }

    # Random readers, fixed cases.
    df_fc = (t - 1) * (r - 1)
    f_fc = _ratio(ms_t, ms_tr) if t > 1 and r > 1 else float("nan")
    se_fc = float(np.sqrt(2 * ms_tr / r)) if t > 1 and r > 1 else float("nan")
    out["fixed_cases"] = {
        "f": float(f_fc),
        "df1": t - 1,
        "df2": df_fc,
        "p": float(stats.f.sf(f_fc, t - 1, df_fc)) if np.isfinite(f_fc) and df_fc > 0 else float("nan"),
        "pairwise": [_pair(modalities, mi, a, b, se_fc, df_fc, alpha, dist="t") for a, b in pairs],
        "single_modality": {
            mod: {
                "estimate": float(mi[i]),
                "se": float(np.sqrt(single[mod]["ms_r"] / r)) if r > 1 else float("nan"),
                "df": r - 1,
                "ci95": _clip01(_ci(float(mi[i]), float(np.sqrt(single[mod]["ms_r"] / r)), r - 1, alpha))
                if r > 1
                else [float("nan")] * 2,
            }
            for i, mod in enumerate(modalities)
        },
    }
    return out


def _pair(mods: list[str], mi: np.ndarray, a: int, b: int, se: float, df: float, alpha: float, dist: str) -> dict:
    diff = float(mi[a] - mi[b])
    stat = diff / se if se and se > 0 else float("nan")
    if not np.isfinite(stat):
        p = float("nan")
    elif dist == "z" or not np.isfinite(df):
        p = float(2 * stats.norm.sf(abs(stat)))
    else:
        p = float(2 * stats.t.sf(abs(stat), df))
    return {
        "comparison": f"{mods[a]} - {mods[b]}",
        "difference": diff,
        "se": float(se),
        "df": float(df),
        "ci95": _ci(diff, se, df, alpha) if np.isfinite(se) else [float("nan")] * 2,
        "t" if dist == "t" else "z": float(stat),
        "p": p,
    }


def mrmc(
    df: pd.DataFrame,
    fom: str = "auc",
    cov: str = "jackknife",
    modalities: list[str] | None = None,
    alpha: float = 0.05,
) -> dict:
    """OR-Hillis analysis of one figure of merit on a normalised reads table with decisions."""
    x = crossed(df, modalities)
    theta, s = fom_and_cov(x, fom, cov)
    out = or_hillis(theta, s, x.modalities, x.readers, alpha)
    out.update(fom=fom, covariance=cov, n_cases=len(x.cases), n_positive=int(x.truth.sum()))
    return out
