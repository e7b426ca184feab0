"""The whole binary-study analysis in one call: what the CLI, report and dashboard show.

``analyze(reads, ai=None, threshold=None)`` returns a plain, JSON-ready dict:

* ``threshold``: ``{"value", "source"}``, the cut ``rating >= value`` used
  when the table has no ``decision`` column;
* ``modalities``, ``readers_order``, ``groups_order``, ``n_cases``,
  ``n_positive``, ``n_negative``;
* ``readers``: one object per reader x modality (plus the AI as reader
  ``"AI"``, modality ``"standalone"``, group ``"AI"`` when AI outputs are
  given) with ``tp fn tn fp sensitivity specificity accuracy ss_avg ppv npv``,
  each rate with ``<rate>_ci95`` (Wilson 1927; SS-Avg by MOVER), ``auc``,
  ``auc_se`` (DeLong 1988), ``auc_ci95``, ``n``, ``seconds_mean``,
  ``seconds_median``;
* ``groups``: per group x modality the means over its readers of the same
  rates and AUC, summed counts, and descriptive ``_ci95`` from the pooled
  counts (pooled Wilson; reader variability is in ``mrmc``);
* ``mcnemar``: per reader, correct/incorrect in the first vs second modality (McNemar 1947);
* ``mrmc``: per figure of merit (``auc``, ``sensitivity``, ``specificity``)
  the OR-Hillis result of :func:`study.stats.mrmc.or_hillis` (``modalities``,
  ``estimates``, ``difference`` (first minus second), ``se``, ``ci95``,
  ``f``, ``df1``, ``df2``, ``p``, ``variance_components``,
  ``single_modality``, ``fixed_readers``, ``fixed_cases``, ...);
* ``sample_size``: readers x cases for 80% power at the observed AUC difference;
* ``agreement``: Cohen's kappa per reader pair and Fleiss' kappa per modality;
* ``switching``: unaided -> aided changes by AI correctness (when AI given);
* ``notes``: plain sentences about anything left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from study.errors import StudyError
from study.stats import auc as auc_mod
from study.stats.agreement import agreement
from study.stats.binary import Z95, binary_metrics, confusion
from study.stats.mcnemar import paired_correctness
from study.stats.mrmc import FOMS, mrmc
from study.stats.sample_size import sample_size_table
from study.stats.switching import switching
from study.stats.table import infer_threshold, normalise_reads, order_of_appearance, with_decisions

RATES = ("sensitivity", "specificity", "accuracy", "ss_avg", "ppv", "npv")
AI_READER = "AI"
AI_MODALITY = "standalone"


def _auc_block(truth: np.ndarray, rating: np.ndarray) -> dict[str, float | list[float]]:
    t = np.asarray(truth).astype(bool)
    if t.all() or not t.any():
        return {"auc": float("nan"), "auc_se": float("nan"), "auc_ci95": [float("nan")] * 2}
    p = auc_mod.placements(t, rating)
    a = float(p.auc[0])
    se = float(np.sqrt(max(auc_mod.delong_cov(p)[0, 0], 0.0)))
    return {"auc": a, "auc_se": se, "auc_ci95": [max(0.0, a - Z95 * se), min(1.0, a + Z95 * se)]}


def _reader_row(sub: pd.DataFrame) -> dict:
    row = binary_metrics(confusion(sub["truth"].to_numpy(), sub["decision"].to_numpy()))
    row.update(_auc_block(sub["truth"].to_numpy(), sub["rating"].to_numpy()))
    row["n"] = int(len(sub))
    if "seconds" in sub.columns and sub["seconds"].notna().any():
        row["seconds_mean"] = float(sub["seconds"].mean())
        row["seconds_median"] = float(sub["seconds"].median())
    else:
        row["seconds_mean"] = row["seconds_median"] = float("nan")
    return row


def normalise_ai(ai: pd.DataFrame, cases: set[str]) -> pd.DataFrame:
    """AI outputs as ``case, rating, decision`` (decision from ``ai_decision`` or the rating's midpoint)."""
    problems = [f"ai: column '{c}' missing" for c in ("case", "ai_rating") if c not in ai.columns]
    if problems:
        raise StudyError(problems)
    out = pd.DataFrame({"case": ai["case"].astype("string").str.strip(), "rating": pd.to_numeric(ai["ai_rating"], errors="coerce")})
    if "ai_decision" in ai.columns and ai["ai_decision"].notna().all():
        out["decision"] = pd.to_numeric(ai["ai_decision"], errors="coerce")
    else:
        out["decision"] = (out["rating"] >= infer_threshold(out["rating"]).value).astype(float)
    out = out.dropna(subset=["rating", "decision"]).drop_duplicates("case")
    out["decision"] = out["decision"].astype("int64")
    return out[out["case"].isin(cases)]


def _nanmean(values: list[float]) -> float:
    """Mean of the finite values; NaN (without numpy's empty-slice warning) if there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _group_rows(rows: list[dict], order: list[str], modalities: list[str]) -> list[dict]:
    out = []
    for g in order:
        for m in modalities:
            members = [r for r in rows if r["group"] == g and r["modality"] == m]
            if not members:
                continue
            agg: dict = {"group": g, "modality": m, "n_readers": len(members)}
            counts = {k: int(sum(r[k] for r in members)) for k in ("tp", "fn", "tn", "fp")}
            pooled = binary_metrics(confusion_from(counts))
            agg.update(counts)
            for rate in RATES:
                agg[rate] = _nanmean([r[rate] for r in members])
                agg[f"{rate}_ci95"] = pooled[f"{rate}_ci95"]
            agg["auc"] = _nanmean([r["auc"] for r in members])
            secs = [r["seconds_mean"] for r in members if np.isfinite(r["seconds_mean"])]
            agg["seconds_mean"] = float(np.mean(secs)) if secs else float("nan")
            out.append(agg)
    return out


def confusion_from(counts: dict[str, int]):
    from study.stats.binary import Confusion

    return Confusion(tp=counts["tp"], fn=counts["fn"], tn=counts["tn"], fp=counts["fp"])


def _pick_unaided_aided(modalities: list[str]) -> tuple[str, str] | None:
    low = {m.lower(): m for m in modalities}
    if "unaided" in low and "aided" in low:
        return low["unaided"], low["aided"]
    return (modalities[0], modalities[1]) if len(modalities) >= 2 else None


def analyze(
    reads: pd.DataFrame,
    ai: pd.DataFrame | None = None,
    threshold: float | None = None,
    cov: str = "jackknife",
    sample_size: bool = True,
    source: str = "reads",
) -> dict:
    """Every binary-task statistic of a long-format reads table (see the module docstring).

    Raises ``StudyError`` (one line per problem) for bad input.
    """
    df = normalise_reads(reads, binary=True, source=source)
    df, cut = with_decisions(df, threshold)
    modalities = order_of_appearance(df["modality"])
    readers = order_of_appearance(df["reader"])
    if "group" not in df.columns or df["group"].eq("").all():
        df["group"] = "all"
    df["group"] = df["group"].replace("", "ungrouped")
    groups = order_of_appearance(df.drop_duplicates("reader")["group"])
    notes: list[str] = []
    truth_by_case = df.drop_duplicates("case").set_index("case")["truth"]

    rows = []
    for (reader, modality), sub in df.groupby(["reader", "modality"], sort=False):
        rows.append({"reader": str(reader), "modality": str(modality), "group": str(sub["group"].iloc[0]), **_reader_row(sub)})

    ai_df = None
    if ai is not None:
        ai_df = normalise_ai(ai, set(truth_by_case.index))
        if len(ai_df):
            ai_reads = ai_df.assign(truth=ai_df["case"].map(truth_by_case).astype(int))
            rows.append({"reader": AI_READER, "modality": AI_MODALITY, "group": AI_READER, **_reader_row(ai_reads)})
        else:
            notes.append("AI outputs match none of the cases; AI left out.")
            ai_df = None

    group_order = groups + ([AI_READER] if ai_df is not None else [])
    group_mods = modalities + ([AI_MODALITY] if ai_df is not None else [])
    result: dict = {
        "threshold": {"value": cut.value if math.isfinite(cut.value) else None, "source": cut.source},
        "modalities": modalities,
        "readers_order": readers,
        "groups_order": group_order,
        "n_readers": len(readers),
        "n_cases": int(len(truth_by_case)),
        "n_positive": int(truth_by_case.sum()),
        "n_negative": int((truth_by_case == 0).sum()),
        "readers": rows,
        "groups": _group_rows(rows, group_order, group_mods),
    }

    # Paired per-reader McNemar, first vs second modality, on cases read both ways.
    mc = []
    if len(modalities) >= 2:
        a_mod, b_mod = modalities[0], modalities[1]
        for reader in readers:
            a = df[(df["reader"] == reader) & (df["modality"] == a_mod)].set_index("case")
            b = df[(df["reader"] == reader) & (df["modality"] == b_mod)].set_index("case")
            common = a.index.intersection(b.index)
            ok_a = (a.loc[common, "decision"] == a.loc[common, "truth"]).to_numpy()
            ok_b = (b.loc[common, "decision"] == b.loc[common, "truth"]).to_numpy()
            mc.append({"reader": reader, "modality_a": a_mod, "modality_b": b_mod, "n": int(len(common)), **paired_correctness(ok_a, ok_b)})
    result["mcnemar"] = mc

    result["mrmc"] = {}
    if len(readers) < 2:
        notes.append("MRMC analysis needs at least two readers; left out.")
    else:
        for fom in FOMS:
            try:
                result["mrmc"][fom] = mrmc(df, fom, cov if fom == "auc" else "jackknife")
            except ValueError as exc:  # e.g. no crossed cases
                notes.append(f"MRMC {fom}: {exc}")
        n_crossed = result["mrmc"].get("auc", {}).get("n_cases")
        if n_crossed is not None and n_crossed < len(truth_by_case):
            notes.append(
                f"MRMC uses the {n_crossed} of {len(truth_by_case)} cases read by every reader in every modality."
            )

    result["sample_size"] = None
    auc_or = result["mrmc"].get("auc")
    if sample_size and auc_or and len(modalities) >= 2 and np.isfinite(auc_or["difference"]) and auc_or["difference"] != 0:
        result["sample_size"] = {
            "effect": abs(auc_or["difference"]),
            "target_power": 0.8,
            "alpha": 0.05,
            "pilot_cases": auc_or["n_cases"],
            "table": sample_size_table(
                abs(auc_or["difference"]), auc_or["variance_components"], auc_or["n_cases"], readers=[3, 5, 8, 10, 15, 20]
            ),
        }

    result["agreement"] = agreement(df) if len(readers) >= 2 else {"cohen": [], "fleiss": {}}

    result["switching"] = None
    pair = _pick_unaided_aided(modalities)
    if ai_df is not None and pair is not None:
        result["switching"] = switching(df, ai_df.set_index("case")["decision"], *pair)
    elif ai_df is None and len(modalities) >= 2:
        notes.append("Switching analysis needs AI outputs; left out.")
    result["notes"] = notes
    return result


def jsonable(obj):
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively, for strict JSON."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj
