"""Multi-reader multi-case analysis: Obuchowski-Rockette with Hillis degrees of freedom.

Model (Obuchowski & Rockette 1995): the figure of merit of reader j in
modality i is θ_ij = μ + τ_i + R_j + (τR)_ij + ε_ij, with random readers and
the case sampling in ε, whose covariances are Var (same reader, same
modality), Cov1 (same reader, different modality), Cov2 (different reader,
same modality) and Cov3 (different reader and modality), estimated from the
case jackknife, DeLong's method or the unbiased U-statistic estimator
(:mod:`study.stats.ustat`, Gallas 2006; Gallas & Brown 2008) and averaged.
Inference for random readers and random cases uses Hillis' (2007) denominator
degrees of freedom; the fixed-reader and fixed-case variants follow Hillis
(2007, 2014) and the Iowa OR-DBM program.

Designs.  Fully crossed studies (every reader reads every case in every
modality) may use any covariance.  Split-plot studies (reader groups read
disjoint case sets; Obuchowski 1995, Obuchowski, Gallas & Hillis 2012) and
partially paired studies (readers read different, overlapping subsets) use the
U-statistic covariances, which are exactly 0 for reader pairs that share no
case; averaging Cov2 and Cov3 over all reader pairs, zeros included, keeps
E[MS(T:R)] = σ²_TR + Var - Cov1 - (Cov2 - Cov3), so the OR-Hillis formulas
hold unchanged (this is the split-plot OR of Obuchowski, Gallas & Hillis 2012,
whose within-group covariances are scaled by (r/G - 1)/(r - 1)).  Readers
nested in modality (each reads one modality) give single-modality results and
a note: a paired comparison needs readers who read every modality.

Figures of merit: empirical AUC, and sensitivity / specificity of the
binary decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from study.stats import auc as auc_mod
from study.stats import ustat

FOMS = ("auc", "sensitivity", "specificity")
COVARIANCES = ("jackknife", "delong", "unbiased")
FOM_WORDS = {"auc": "AUC", "sensitivity": "sensitivity", "specificity": "specificity"}


@dataclass(frozen=True)
class Crossed:
    """A study as arrays: ``ratings[i, j, c]`` for modality i, reader j, case c.

    ``read[i, j, c]`` is False where reader j did not read case c in modality i
    (ratings and decisions are NaN there).  ``fully_crossed`` when all are read.
    """

    modalities: list[str]
    readers: list[str]
    cases: list[str]
    truth: np.ndarray  # (c,) 0/1
    ratings: np.ndarray  # (t, r, c)
    decisions: np.ndarray  # (t, r, c) 0/1
    read: np.ndarray | None = None  # (t, r, c) bool

    @property
    def mask(self) -> np.ndarray:
        return np.ones(self.ratings.shape, bool) if self.read is None else self.read

    @property
    def fully_crossed(self) -> bool:
        return bool(self.mask.all())


def design_arrays(df: pd.DataFrame, modalities: list[str] | None = None, readers: list[str] | None = None) -> Crossed:
    """Arrays of every case any of ``readers`` read in ``modalities`` (order of first appearance)."""
    mods = modalities or [str(m) for m in pd.unique(df["modality"])]
    df = df[df["modality"].isin(mods)]
    if readers is not None:
        df = df[df["reader"].isin(readers)]
    rds = list(readers) if readers is not None else [str(r) for r in pd.unique(df["reader"])]
    case_codes, cases = pd.factorize(df["case"], sort=False)
    mod_codes = pd.Index(mods).get_indexer(df["modality"])
    reader_codes = pd.Index(rds).get_indexer(df["reader"])
    shape = (len(mods), len(rds), len(cases))
    ratings = np.full(shape, np.nan)
    decisions = np.full(shape, np.nan)
    ratings[mod_codes, reader_codes, case_codes] = df["rating"].to_numpy(float)
    decisions[mod_codes, reader_codes, case_codes] = df["decision"].to_numpy(float)
    truth = np.zeros(len(cases), int)
    truth[case_codes] = df["truth"].to_numpy(int)
    return Crossed(
        modalities=list(mods),
        readers=rds,
        cases=[str(c) for c in cases],
        truth=truth,
        ratings=ratings,
        decisions=decisions,
        read=~np.isnan(ratings),
    )


def _subset(x: Crossed, readers: list[str]) -> Crossed:
    """The readers' slice of ``x``, keeping only the cases at least one of them read."""
    idx = [x.readers.index(r) for r in readers]
    read = x.mask[:, idx]
    keep = read.any(axis=(0, 1))
    return Crossed(
        x.modalities,
        list(readers),
        [c for c, k in zip(x.cases, keep) if k],
        x.truth[keep],
        x.ratings[:, idx][:, :, keep],
        x.decisions[:, idx][:, :, keep],
        read[:, :, keep],
    )


def crossed(df: pd.DataFrame, modalities: list[str] | None = None) -> Crossed:
    """Arrays of the cases every reader read in every modality (order of first appearance)."""
    x = design_arrays(df, modalities)
    keep = x.mask.all(axis=(0, 1))
    return Crossed(
        x.modalities,
        x.readers,
        [c for c, k in zip(x.cases, keep) if k],
        x.truth[keep],
        x.ratings[:, :, keep],
        x.decisions[:, :, keep],
        x.read[:, :, keep],
    )


def fom_and_cov(x: Crossed, fom: str, cov: str = "jackknife") -> tuple[np.ndarray, np.ndarray]:
    """Figures of merit (t, r) and their error covariance (t·r, t·r).

    ``cov='jackknife'``: leave-one-case-out covariance (Efron 1982), as in
    Obuchowski & Rockette (1995) and Hillis (2007).  ``cov='delong'``: DeLong
    et al. (1988), AUC only.  ``cov='unbiased'``: the U-statistic covariance
    of Gallas (2006) / Gallas & Brown (2008) (:mod:`study.stats.ustat`), the
    only one defined when the design is not fully crossed.  For sensitivity
    (specificity) the jackknife runs over the positive (negative) cases, the
    only ones in the proportion; the leave-one-out values are closed-form,
    (k - hit_c)/(n-1).  Raises ``ValueError`` for an unknown method or a
    jackknife/DeLong on a design that is not fully crossed.
    """
    t, r, c = x.ratings.shape
    pos = x.truth.astype(bool)
    if fom not in FOMS:
        raise ValueError(f"unknown figure of merit {fom!r}")
    if cov not in COVARIANCES:
        raise ValueError(f"unknown covariance method {cov!r}")
    if cov != "unbiased" and not x.fully_crossed:
        raise ValueError(f"the {cov} covariance needs every reader to read every case in every modality")
    read = x.mask.reshape(t * r, c)
    if fom == "auc":
        if cov == "unbiased":
            theta, s = ustat.auc_cov(x.truth, x.ratings.reshape(t * r, c), read)
            return theta.reshape(t, r), s
        p = auc_mod.placements(x.truth, x.ratings.reshape(t * r, c))
        theta = p.auc
        s = auc_mod.delong_cov(p) if cov == "delong" else auc_mod.jackknife_cov(auc_mod.jackknife_auc(p))
        return theta.reshape(t, r), s
    if cov == "delong":
        raise ValueError("covariance 'delong' is defined for the AUC only; use 'jackknife' or 'unbiased'")
    d = x.decisions.reshape(t * r, c)
    cls = pos if fom == "sensitivity" else ~pos
    hit = d[:, cls] if fom == "sensitivity" else 1.0 - d[:, cls]
    if cov == "unbiased":
        theta, s = ustat.proportion_cov(hit, read[:, cls])
        return theta.reshape(t, r), s
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
    if not np.isfinite(se) or not (np.isfinite(df) or df == np.inf):
        return [float("nan"), float("nan")]
    q = stats.t.ppf(1 - alpha / 2, df) if np.isfinite(df) else stats.norm.ppf(1 - alpha / 2)
    return [float(est - q * se), float(est + q * se)]


def _clip(ci: list[float], lo: float, hi: float) -> list[float]:
    return [float(min(max(v, lo), hi)) if np.isfinite(v) else v for v in ci]


def _clip01(ci: list[float]) -> list[float]:
    """Figures of merit live in [0, 1]; so do their single-modality intervals (as in MRMCaov)."""
    return _clip(ci, 0.0, 1.0)


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
    fixed_reader_convention: str = "hillis",
) -> dict:
    """Obuchowski-Rockette (1995) test with Hillis (2007) ddf, plus fixed-factor variants.

    ``theta``: (t, r) figures of merit; ``s``: (t·r, t·r) their error
    covariance, rows modality-major.

    Random readers, random cases (RRRC)::

        F = MS(T) / [MS(T:R) + r·max(Cov2 - Cov3, 0)]
        ddf = [MS(T:R) + r·max(Cov2 - Cov3, 0)]² / {MS(T:R)² / [(t-1)(r-1)]}

    Fixed readers (FRRC), Hillis (2007) and the Iowa OR-DBM program (RJafroc
    agrees): X² = (t-1)·MS(T) / [Var - Cov1 + (r-1)·max(Cov2 - Cov3, 0)] on
    t-1 df; single-modality SE² = [Var_i + (r-1)·max(Cov2_i, 0)] / r.
    ``fixed_reader_convention='mrmcaov'`` leaves the first max out, as
    MRMCaov (Smith & Hillis 2020) does: (r-1)·(Cov2 - Cov3).  Per-reader
    comparisons, every modality pair: SE² = 2·(Var_j - Cov1_j) with reader
    j's Var and Cov1 averaged over all modalities (Iowa OR-DBM, MRMCaov).
    Fixed cases (RRFC): F = MS(T) / MS(T:R) on (t-1, (t-1)(r-1)).
    Single-modality CIs (RRRC): SE² = MS(R)_i / r + max(Cov2_i, 0),
    df = [MS(R)_i + r·max(Cov2_i, 0)]² / [MS(R)_i² / (r-1)] (Hillis 2007).
    Variance components (Hillis 2007): σ²_TR = MS(T:R) - Var + Cov1 + Cov2 - Cov3,
    σ²_R = [MS(R) - MS(T:R)] / t - Cov1 + Cov3.  CIs of a figure of merit are
    clipped to [0, 1], of a difference to [-1, 1].
    """
    if fixed_reader_convention not in ("hillis", "mrmcaov"):
        raise ValueError(f"unknown fixed-reader convention {fixed_reader_convention!r}")
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
        "per_reader": {
            mod: {rd: float(theta[i, j]) for j, rd in enumerate(readers)} for i, mod in enumerate(modalities)
        },
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
        p=float(stats.f.sf(f, t - 1, ddf)) if np.isfinite(f) and np.isfinite(ddf) and t > 1 else float("nan"),
    )
    se_diff = float(np.sqrt(2 * den / r)) if t > 1 and r > 1 and den > 0 else float("nan")
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
    c23 = cov2 - cov3 if fixed_reader_convention == "mrmcaov" else max(cov2 - cov3, 0.0)
    den_fr = var - cov1 + (r - 1) * c23
    x2 = (t - 1) * _ratio(ms_t, den_fr) if t > 1 else float("nan")
    se_fr = float(np.sqrt(2 * den_fr / r)) if den_fr > 0 else float("nan")
    idx = np.arange(t * r).reshape(t, r)
    per_reader = []
    for j, rd in enumerate(readers):
        if t < 2:
            break
        block = s[np.ix_(idx[:, j], idx[:, j])]
        var_j = float(np.diag(block).mean())
        cov1_j = float(block[~np.eye(t, dtype=bool)].mean())
        v = 2 * (var_j - cov1_j)
        se = float(np.sqrt(v)) if v > 0 else float("nan")
        for a, b in pairs:
            diff = float(theta[a, j] - theta[b, j])
            z = diff / se if np.isfinite(se) else float("nan")
            per_reader.append(
                {
                    "reader": rd,
                    "comparison": f"{modalities[a]} - {modalities[b]}",
                    "difference": diff,
                    "se": se,
                    "ci95": _clip(_ci(diff, se, np.inf, alpha), -1.0, 1.0),
                    "z": z,
                    "p": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
                }
            )

    def se_fixed(i_mod: str) -> float:
        v = (single[i_mod]["var_error"] + (r - 1) * max(single[i_mod]["cov2"], 0.0)) / r
        return float(np.sqrt(v)) if v > 0 else float("nan")

    out["fixed_readers"] = {
        "convention": fixed_reader_convention,
        "chi2": float(x2),
        "df": t - 1,
        "p": float(stats.chi2.sf(x2, t - 1)) if np.isfinite(x2) and t > 1 else float("nan"),
        "pairwise": [_pair(modalities, mi, a, b, se_fr, np.inf, alpha, dist="z") for a, b in pairs],
        "single_modality": {
            mod: {
                "estimate": float(mi[i]),
                "se": se_fixed(mod),
                "ci95": _clip01(_ci(float(mi[i]), se_fixed(mod), np.inf, alpha)),
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
    stat = diff / se if np.isfinite(se) and se > 0 else float("nan")
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
        "ci95": _clip(_ci(diff, se, df, alpha), -1.0, 1.0),
        "t" if dist == "t" else "z": float(stat),
        "p": p,
    }


def _class_counts(x: Crossed) -> tuple[np.ndarray, np.ndarray]:
    """Positives and negatives read per (modality, reader): two (t, r) integer arrays."""
    pos = x.truth.astype(bool)
    return x.mask[:, :, pos].sum(axis=2), x.mask[:, :, ~pos].sum(axis=2)


def _shortfall(fom: str, n1: int, n0: int) -> str | None:
    """Why one reader x modality cannot enter the analysis of ``fom`` (None if it can)."""
    if n1 + n0 == 0:
        return "no reads"
    if fom == "auc" and (n1 < 2 or n0 < 2):
        return f"{n1 + n0} case(s) read ({n1} positive, {n0} negative); the AUC needs at least 2 of each"
    if fom == "sensitivity" and n1 < 2:
        return f"{n1} positive case(s) read; sensitivity needs at least 2"
    if fom == "specificity" and n0 < 2:
        return f"{n0} negative case(s) read; specificity needs at least 2"
    return None


def _design_name(read: np.ndarray) -> str:
    """'fully crossed', 'split-plot' (groups of readers on disjoint case sets) or 'partially paired'."""
    if read.all():
        return "fully crossed"
    per_reader = read.any(axis=0)  # (r, c): cases each reader read in some modality
    same_in_all_mods = bool((read == per_reader[None]).all())
    sets = {tuple(np.flatnonzero(row)) for row in per_reader}
    disjoint = all(not set(a) & set(b) for a in sets for b in sets if a != b)
    if same_in_all_mods and disjoint and len(sets) > 1:
        return "split-plot"
    return "partially paired"


def mrmc(
    df: pd.DataFrame,
    fom: str = "auc",
    cov: str = "jackknife",
    modalities: list[str] | None = None,
    alpha: float = 0.05,
    fixed_reader_convention: str = "hillis",
    design: Crossed | None = None,
) -> dict:
    """OR-Hillis analysis of one figure of merit on a normalised reads table with decisions.

    ``design``: the arrays of ``df`` (:func:`design_arrays`), when the caller
    already built them (e.g. for all three figures of merit).

    Works on any design: readers who cannot enter the paired comparison (no
    reads, or too few positive/negative cases, in some modality) are left out
    and listed in ``left_out``; a design that is not fully crossed uses the
    U-statistic covariance (``covariance`` says which was used).  Readers
    nested in modality give ``single_modality`` results only, with ``design``
    ``"nested"`` and a ``notes`` line.  Extra keys: ``design``, ``n_readers``,
    ``n_cases``, ``n_positive``, ``n_negative``, ``left_out``, ``notes``.
    Raises ``ValueError`` for an unknown ``fom``, ``cov`` or convention.
    """
    if fom not in FOMS:
        raise ValueError(f"unknown figure of merit {fom!r}")
    if cov not in COVARIANCES:
        raise ValueError(f"unknown covariance method {cov!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        x = design if design is not None and modalities is None else design_arrays(df, modalities)
        return _mrmc(x, fom, cov, alpha, fixed_reader_convention)


def _mrmc(x: Crossed, fom, cov, alpha, convention) -> dict:
    n1, n0 = _class_counts(x)
    reasons = {}
    for j, rd in enumerate(x.readers):
        why = [f"{m}: {w}" for i, m in enumerate(x.modalities) if (w := _shortfall(fom, int(n1[i, j]), int(n0[i, j])))]
        if why:
            reasons[rd] = "; ".join(why)
    paired = [rd for rd in x.readers if rd not in reasons]
    notes: list[str] = []
    word = FOM_WORDS[fom]
    if len(paired) >= 2:
        sub = _subset(x, paired)
        used_cov = cov
        if not sub.fully_crossed and cov != "unbiased":
            used_cov = "unbiased"
            notes.append(
                "Not every reader read every case, so the case covariances are the unbiased U-statistic "
                f"estimates (Gallas 2006) instead of the {cov}."
            )
        theta, s = fom_and_cov(sub, fom, used_cov)
        out = or_hillis(theta, s, sub.modalities, sub.readers, alpha, convention)
        design = _design_name(sub.mask)
        cases_read = sub.mask.any(axis=(0, 1))
        truth = sub.truth[cases_read]
    else:
        used_cov = "unbiased"
        design = "nested" if (x.mask.any(axis=2).sum(axis=0) <= 1).all() and len(x.modalities) > 1 else "incomplete"
        out = _single_modalities(x, fom, alpha)
        cases_read = x.mask.any(axis=(0, 1))
        truth = x.truth[cases_read]
        if design == "nested":
            notes.append(
                f"Readers are nested in modality (each reader read only one modality): the {word} of the "
                "modalities is given separately; a paired comparison needs readers who read every modality."
            )
        else:
            notes.append(
                f"The paired {word} comparison needs at least two readers who read every modality "
                f"(with enough cases); {len(paired)} did."
            )
    if reasons and len(paired) >= 2:
        notes.append(
            f"{len(reasons)} of {len(x.readers)} readers left out of the paired {word} comparison: "
            + "; ".join(f"{rd} ({why})" for rd, why in reasons.items())
        )
    if design == "split-plot":
        notes.append("Split-plot design: reader groups read disjoint sets of cases (Obuchowski 1995).")
    out.update(
        fom=fom,
        covariance=used_cov,
        design=design,
        n_readers=len(out["readers"]),
        n_cases=int(cases_read.sum()),
        n_positive=int(truth.sum()),
        n_negative=int((truth == 0).sum()),
        left_out=[{"reader": rd, "reason": why} for rd, why in reasons.items()],
        notes=notes,
    )
    return out


def _modality(x: Crossed, i: int) -> Crossed:
    return Crossed(
        [x.modalities[i]], x.readers, x.cases, x.truth, x.ratings[i : i + 1], x.decisions[i : i + 1], x.mask[i : i + 1]
    )


def _single_modalities(x: Crossed, fom: str, alpha: float) -> dict:
    """Per-modality random-reader results when no paired comparison is possible (e.g. nested readers)."""
    single, estimates, per_reader, readers = {}, {}, {}, []
    for i, mod in enumerate(x.modalities):
        sub = _modality(x, i)
        n1, n0 = _class_counts(sub)
        ok = [rd for j, rd in enumerate(sub.readers) if _shortfall(fom, int(n1[0, j]), int(n0[0, j])) is None]
        if not ok:
            continue
        sub = _subset(sub, ok)
        theta, s = fom_and_cov(sub, fom, "unbiased")
        res = or_hillis(theta, s, [mod], ok, alpha)
        single[mod] = res["single_modality"][mod]
        estimates[mod] = res["estimates"][mod]
        per_reader[mod] = res["per_reader"][mod]
        readers += [rd for rd in ok if rd not in readers]
    nan = float("nan")
    return {
        "modalities": list(estimates),
        "readers": readers,
        "estimates": estimates,
        "per_reader": per_reader,
        "single_modality": single,
        "pairwise": [],
        "difference": nan,
        "se": nan,
        "ci95": [nan, nan],
        "f": nan,
        "df1": len(estimates) - 1,
        "df2": nan,
        "p": nan,
        "variance_components": {},
        "fixed_readers": {"pairwise": [], "per_reader": [], "single_modality": {}, "chi2": nan, "df": 0, "p": nan},
        "fixed_cases": {"pairwise": [], "single_modality": {}, "f": nan, "df1": 0, "df2": 0, "p": nan},
    }
