"""Specimen-level workflow statistics of a triage study (issue 17).

Per reader x modality, from the reads (one row per specimen read: ``seconds``) and
the field views (one row per opening of a field, ``study.store.field_views_table``):

* reading time per specimen (mean and median seconds);
* fields opened per specimen (distinct fields, mean; and openings, mean);
* how often the decisive field was among the AI's top-k picks: count, rate with
  a Wilson (1927) 95% CI, and its complement, the miss rate of the AI's picks.

The per-class one-vs-rest sensitivity/specificity and the CIN2+ collapse at
specimen level are ``study.stats.multiclass`` on the reads (each case is a specimen).
Pure functions of data frames; no store access.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from study.errors import ProblemList
from study.stats.binary import wilson_ci

VIEW_COLUMNS = ("read_id", "field_index", "decisive", "in_top_k")
READ_COLUMNS = ("reader", "modality", "case", "seconds", "read_id")


def _check(frame: pd.DataFrame, needed: tuple[str, ...], source: str) -> None:
    problems = ProblemList(source)
    for column in needed:
        if column not in frame.columns:
            problems.add(f"column '{column}'", "missing")
    problems.raise_if_any()


def specimen_summary(reads: pd.DataFrame, views: pd.DataFrame) -> list[dict]:
    """One dict per reader x modality (order of first appearance); see the module doc.

    ``reads``: reader, modality, case, seconds, read_id (and group).  ``views``: read_id,
    field_index, decisive (bool), in_top_k (bool or None when unknown).  A read with no
    views (a single-image case) is left out.  Raises StudyError naming a missing column."""
    _check(reads, READ_COLUMNS, "reads")
    _check(views, VIEW_COLUMNS, "field views")
    by_read = {rid: sub for rid, sub in views.groupby("read_id", sort=False)} if len(views) else {}
    out = []
    for (reader, modality), sub in reads.groupby(["reader", "modality"], sort=False):
        sub = sub[sub["read_id"].isin(by_read.keys())]
        if not len(sub):
            continue
        seconds = sub["seconds"].to_numpy(float)
        distinct, openings, hits, known = [], [], 0, 0
        for rid in sub["read_id"]:
            v = by_read[rid]
            distinct.append(v["field_index"].nunique())
            openings.append(len(v))
            decisive = v[v["decisive"].astype(bool)]
            if len(decisive):
                flag = decisive["in_top_k"].iloc[-1]
                if flag is not None and not (isinstance(flag, float) and math.isnan(flag)):
                    known += 1
                    hits += bool(flag)
        rate = hits / known if known else float("nan")
        lo, hi = wilson_ci(hits, known)
        group = str(sub["group"].iloc[0]) if "group" in sub.columns else ""
        out.append(
            {
                "reader": str(reader),
                "modality": str(modality),
                "group": group,
                "specimens": int(len(sub)),
                "seconds_mean": float(np.mean(seconds)),
                "seconds_median": float(np.median(seconds)),
                "fields_opened_mean": float(np.mean(distinct)),
                "openings_mean": float(np.mean(openings)),
                "decisive_known": known,
                "decisive_in_top_k": hits,
                "decisive_in_top_k_rate": rate,
                "decisive_in_top_k_ci95": [lo, hi],
                "ai_pick_miss_rate": 1 - rate if known else float("nan"),
            }
        )
    return out


def top_k_flags(views: pd.DataFrame, ai_top_k: dict[str, frozenset[int]]) -> pd.DataFrame:
    """Fill ``in_top_k`` where it is unknown (unaided reads: the AI was not shown) from the AI's
    picks per case (``case`` column needed), so the unaided decisive fields can be compared too."""
    views = views.copy()
    missing = views["in_top_k"].isna() if len(views) else pd.Series(dtype=bool)
    if not missing.any():
        return views
    views["in_top_k"] = views["in_top_k"].astype(object)
    views.loc[missing, "in_top_k"] = [
        (int(f) in ai_top_k[c]) if c in ai_top_k else None
        for c, f in zip(views.loc[missing, "case"], views.loc[missing, "field_index"])
    ]
    return views
