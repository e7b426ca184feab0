"""The whole binary-study analysis in one call: what the CLI, report and dashboard show.

``analyze(reads, ai=None, threshold=None)`` returns a plain, JSON-ready dict:

* ``threshold``: ``{"value", "source"}``, the readers' cut ``rating >= value``
  (value None when their own yes/no answers are used); ``thresholds``: the
  same for ``readers`` and ``AI``, each on its own rating scale;
* ``progress``: reads per reader x modality, ``interim`` while reading is under way
  (with ``planned``: ``planned``, ``done`` and per reader x session ``sessions``);
* ``reading_time``: per reader, reads faster than the floor (default 2 s);
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
* ``agreement``: Cohen's kappa per reader pair (cases both read) and Fleiss'
  kappa per modality (cases all read), each with its ``n``;
* ``switching``: unaided -> aided changes by AI correctness (when AI given);
* ``notes``: plain sentences about anything left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from study.errors import StudyError
from study.progress import ReadingProgress
from study.stats import auc as auc_mod
from study.stats.agreement import agreement
from study.stats.binary import Z95, binary_metrics, confusion
from study.stats.mcnemar import paired_correctness
from study.stats.mrmc import FOMS, design_arrays, mrmc
from study.stats.sample_size import sample_size_table
from study.stats.switching import switching
from study.stats.table import (
    Scale,
    Threshold,
    infer_threshold,
    normalise_reads,
    order_of_appearance,
    with_decisions,
)
from study.stats.timing import reading_time_qc

RATES = ("sensitivity", "specificity", "accuracy", "ss_avg", "ppv", "npv")
AI_READER = "AI"
AI_MODALITY = "standalone"
# Why a rate has no value, in the study's words (its denominator is empty).
EMPTY_DENOMINATOR = {
    "sensitivity": "no positive case read",
    "specificity": "no negative case read",
    "accuracy": "no case read",
    "ss_avg": "needs positive and negative cases",
    "ppv": "no positive call made",
    "npv": "no negative call made",
}


def _auc_block(truth: np.ndarray, rating: np.ndarray) -> dict[str, float | list[float]]:
    t = np.asarray(truth).astype(bool)
    if t.all() or not t.any():
        return {"auc": float("nan"), "auc_se": float("nan"), "auc_ci95": [float("nan")] * 2}
    p = auc_mod.placements(t, rating)
    a = float(p.auc[0])
    se = float(np.sqrt(max(auc_mod.delong_cov(p)[0, 0], 0.0)))
    return {"auc": a, "auc_se": se, "auc_ci95": [max(0.0, a - Z95 * se), min(1.0, a + Z95 * se)]}


def _reader_row(sub: pd.DataFrame) -> dict:
    truth = sub["truth"].to_numpy()
    row = binary_metrics(confusion(truth, sub["decision"].to_numpy()))
    row.update(_auc_block(truth, sub["rating"].to_numpy()))
    row["n"] = len(sub)
    row["n_positive"] = int((truth == 1).sum())
    row["n_negative"] = int((truth == 0).sum())
    why = {k: v for k, v in EMPTY_DENOMINATOR.items() if not math.isfinite(row[k])}
    if not math.isfinite(row["auc"]):
        why["auc"] = "needs positive and negative cases"
    row["not_estimable"] = why
    if "seconds" in sub.columns and sub["seconds"].notna().any():
        row["seconds_mean"] = float(sub["seconds"].mean())
        row["seconds_median"] = float(sub["seconds"].median())
    else:
        row["seconds_mean"] = row["seconds_median"] = float("nan")
    return row


def normalise_ai(
    ai: pd.DataFrame, cases: set[str], threshold: float | None = None, scale: Scale | None = None
) -> pd.DataFrame:
    """AI outputs as ``case, rating, decision``.

    The decision is ``rating >= threshold`` when a threshold is given; else the
    model's own decision (``ai_decision``, e.g. its operating point); else the
    midpoint of the AI's own score scale (``scale``, or inferred from its
    scores with :func:`study.stats.table.infer_scale`), never the readers'.
    ``out.attrs['threshold']`` holds the :class:`Threshold` used.
    """
    problems = [f"ai: column '{c}' missing" for c in ("case", "ai_rating") if c not in ai.columns]
    if problems:
        raise StudyError(problems)
    out = pd.DataFrame(
        {"case": ai["case"].astype("string").str.strip(), "rating": pd.to_numeric(ai["ai_rating"], errors="coerce")}
    )
    if threshold is None and "ai_decision" in ai.columns and ai["ai_decision"].notna().all():
        out["decision"] = pd.to_numeric(ai["ai_decision"], errors="coerce")
        cut = _model_threshold(ai)
    elif out["rating"].notna().any():
        cut = infer_threshold(out["rating"], threshold, scale, who="AI's")
        out["decision"] = (out["rating"] >= cut.value).astype(float)
    else:
        raise StudyError(["ai: column 'ai_rating' has no numeric score"])
    out = out.dropna(subset=["rating", "decision"]).drop_duplicates("case")
    out["decision"] = out["decision"].astype("int64")
    out = out[out["case"].isin(cases)]
    out.attrs["threshold"] = cut
    return out


def _model_threshold(ai: pd.DataFrame) -> Threshold:
    """The model's own operating point behind ``ai_decision``: its stored threshold (``ai_threshold``) and rule
    (``ai_threshold_rule``) when every output names the same one; else NaN, "the model's own decision"."""
    values = pd.to_numeric(ai["ai_threshold"], errors="coerce") if "ai_threshold" in ai.columns else pd.Series([])
    if len(values) and values.notna().all() and values.nunique() == 1:
        rules = {str(r) for r in ai.get("ai_threshold_rule", pd.Series([""])).fillna("") if str(r)}
        rule = f", {rules.pop()}" if len(rules) == 1 else ""
        return Threshold(float(values.iloc[0]), f"the model's operating point{rule}")
    return Threshold(float("nan"), "the model's own decision")


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
            agg: dict = {
                "group": g,
                "modality": m,
                "n_readers": len(members),
                "n_reads": int(sum(r["n"] for r in members)),
            }
            counts = {k: int(sum(r[k] for r in members)) for k in ("tp", "fn", "tn", "fp")}
            pooled = binary_metrics(confusion_from(counts))
            agg.update(counts)
            for rate in RATES:
                agg[rate] = _nanmean([r[rate] for r in members])
                agg[f"{rate}_ci95"] = pooled[f"{rate}_ci95"]
            agg["auc"] = _nanmean([r["auc"] for r in members])
            agg["not_estimable"] = {
                k: v
                for k, v in {**EMPTY_DENOMINATOR, "auc": "needs positive and negative cases"}.items()
                if not math.isfinite(agg[k])
            }
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


def _threshold_dict(cut) -> dict:
    return {"value": cut.value if math.isfinite(cut.value) else None, "source": cut.source}


def _progress(df: pd.DataFrame, modalities: list[str], readers: list[str], expected_cases: int | None) -> dict:
    """Reads per reader x modality and whether the study is still being read (interim)."""
    counts = df.groupby(["reader", "modality"], sort=False).size()
    cells = {(r, m): int(counts.get((r, m), 0)) for r in readers for m in modalities}
    missing = [f"{r} ({m})" for (r, m), n in cells.items() if n == 0]
    short = [] if expected_cases is None else [f"{r} ({m})" for (r, m), n in cells.items() if 0 < n < expected_cases]
    interim = bool(missing or short)
    return {
        "interim": interim,
        "n_reads": len(df),
        "expected_cases": expected_cases,
        "reads": [{"reader": r, "modality": m, "n": n} for (r, m), n in cells.items()],
        "not_started": missing,
        "unfinished": short,
    }


def analyze(
    reads: pd.DataFrame,
    ai: pd.DataFrame | None = None,
    threshold: float | None = None,
    cov: str = "jackknife",
    sample_size: bool = True,
    source: str = "reads",
    ai_threshold: float | None = None,
    reader_scale: Scale | None = None,
    ai_scale: Scale | None = None,
    expected_cases: int | None = None,
    min_read_seconds: float = 2.0,
    fixed_reader_convention: str = "hillis",
    planned: ReadingProgress | None = None,
    ai_subset: bool = False,
    ai_source: str = "AI outputs",
) -> dict:
    """Every binary-task statistic of a long-format reads table (see the module docstring).

    Works on incomplete studies (readers still reading): per-reader results
    for whatever is there, the paired MRMC on the readers and cases with every
    modality (``mrmc[fom]['left_out']``), ``progress['interim']``.  Each source
    of ratings has its own scale and threshold: ``threshold`` / ``reader_scale``
    for the readers, ``ai_threshold`` / ``ai_scale`` for the AI (both reported
    in ``thresholds``).  ``expected_cases``: cases each reader reads per
    modality (for the interim counts).  ``planned``: a stored study's progress over
    its enrolled readers x planned sessions (``study.progress``); it decides
    ``progress['interim']`` (a reader or session with no reads at all is not in
    ``reads``, so the table alone cannot tell).  AI outputs that miss some of the
    readers' cases raise ``StudyError`` naming ``ai_source`` and the missing case
    ids (the AI row would be on other cases than the readers'); with ``ai_subset``
    the AI row is computed on the cases it covers and a note says which are missing.
    Raises ``StudyError`` (one line per
    problem) for bad input.
    """
    df = normalise_reads(reads, binary=True, source=source, require_all_modalities=False)
    df, cut = with_decisions(df, threshold, reader_scale)
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
        rows.append(
            {"reader": str(reader), "modality": str(modality), "group": str(sub["group"].iloc[0]), **_reader_row(sub)}
        )

    ai_df = None
    thresholds = {"readers": _threshold_dict(cut)}
    if ai is not None:
        ai_df = normalise_ai(ai, set(truth_by_case.index), ai_threshold, ai_scale)
        thresholds["AI"] = _threshold_dict(ai_df.attrs["threshold"])
        uncovered = [str(c) for c in truth_by_case.index if c not in set(ai_df["case"])]
        if uncovered and len(ai_df):
            shown = ", ".join(uncovered[:20]) + (f" and {len(uncovered) - 20} more" if len(uncovered) > 20 else "")
            covered, total = len(truth_by_case) - len(uncovered), len(truth_by_case)
            if not ai_subset:
                raise StudyError(
                    [
                        f"{ai_source}: an AI score for {covered} of the readers' {total} cases; no usable score for "
                        f"{shown}. The AI and the readers must be compared on the same cases: give a score for "
                        "every case, or allow the AI on the cases it covers (readerstudy analyze --ai-subset)"
                    ]
                )
            notes.append(
                f"AI outputs cover only {covered} of {total} cases (none for {shown}): the AI row is on those "
                f"{covered} cases, the readers' rows on all {total}; they are not compared on the same cases."
            )
        if len(ai_df):
            ai_reads = ai_df.assign(truth=ai_df["case"].map(truth_by_case).astype(int))
            rows.append({"reader": AI_READER, "modality": AI_MODALITY, "group": AI_READER, **_reader_row(ai_reads)})
        else:
            notes.append("AI outputs match none of the cases; AI left out.")
            ai_df = None

    group_order = groups + ([AI_READER] if ai_df is not None else [])
    group_mods = modalities + ([AI_MODALITY] if ai_df is not None else [])
    progress = _progress(df, modalities, readers, expected_cases)
    if planned is not None:
        progress.update(planned.as_dict())
    result: dict = {
        "threshold": thresholds["readers"],
        "thresholds": thresholds,
        "modalities": modalities,
        "readers_order": readers,
        "groups_order": group_order,
        "n_readers": len(readers),
        "n_cases": len(truth_by_case),
        "n_positive": int(truth_by_case.sum()),
        "n_negative": int((truth_by_case == 0).sum()),
        "progress": progress,
        "readers": rows,
        "groups": _group_rows(rows, group_order, group_mods),
    }
    if planned is not None:
        notes += planned.notes()
    elif progress["not_started"]:
        notes.append("Interim: no reads yet for " + ", ".join(progress["not_started"]) + ".")
    if planned is None and progress["unfinished"]:
        notes.append(f"Interim: fewer than {expected_cases} cases read by " + ", ".join(progress["unfinished"]) + ".")

    # Paired per-reader McNemar, first vs second modality, on cases read both ways.
    mc = []
    if len(modalities) >= 2:
        a_mod, b_mod = modalities[0], modalities[1]
        for reader in readers:
            a = df[(df["reader"] == reader) & (df["modality"] == a_mod)].set_index("case")
            b = df[(df["reader"] == reader) & (df["modality"] == b_mod)].set_index("case")
            common = a.index.intersection(b.index)
            if len(common) == 0:
                continue
            ok_a = (a.loc[common, "decision"] == a.loc[common, "truth"]).to_numpy()
            ok_b = (b.loc[common, "decision"] == b.loc[common, "truth"]).to_numpy()
            mc.append(
                {
                    "reader": reader,
                    "modality_a": a_mod,
                    "modality_b": b_mod,
                    "n": len(common),
                    **paired_correctness(ok_a, ok_b),
                }
            )
    result["mcnemar"] = mc

    result["mrmc"] = {}
    if len(readers) < 2:
        notes.append("MRMC analysis needs at least two readers; left out.")
    else:
        arrays = design_arrays(df)
        for fom in FOMS:
            result["mrmc"][fom] = mrmc(
                df,
                fom,
                cov if fom == "auc" else ("unbiased" if cov == "unbiased" else "jackknife"),
                fixed_reader_convention=fixed_reader_convention,
                design=arrays,
            )

    result["sample_size"] = None
    auc_or = result["mrmc"].get("auc")
    if (
        sample_size
        and auc_or
        and auc_or["pairwise"]
        and len(modalities) >= 2
        and np.isfinite(auc_or["difference"])
        and auc_or["difference"] != 0
        and auc_or["variance_components"]
    ):
        result["sample_size"] = {
            "effect": abs(auc_or["difference"]),
            "target_power": 0.8,
            "alpha": 0.05,
            "pilot_cases": auc_or["n_cases"],
            "table": sample_size_table(
                abs(auc_or["difference"]),
                auc_or["variance_components"],
                auc_or["n_cases"],
                readers=[3, 5, 8, 10, 15, 20],
            ),
        }

    result["agreement"] = agreement(df) if len(readers) >= 2 else {"cohen": [], "fleiss": {}}
    result["reading_time"] = reading_time_qc(df, min_read_seconds)

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
