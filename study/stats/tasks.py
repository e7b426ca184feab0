"""Per reader x modality summaries for the non-binary tasks, from a long-format table.

The store's reads table carries the read in ``answer`` (multiclass label),
``value`` (numeric) or ``distribution`` (grade distribution, a list of
probabilities); ``truth`` is the case's label, number or rater distribution.
Each function groups by reader and modality (order of first appearance) and
applies the matching metric module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from study.errors import ProblemList
from study.stats.grades import grade_summary
from study.stats.multiclass import multiclass_metrics
from study.stats.numeric import numeric_summary


def _check(reads: pd.DataFrame, needed: tuple[str, ...], source: str) -> None:
    problems = ProblemList(source)
    for column in needed:
        if column not in reads.columns:
            problems.add(f"column '{column}'", "missing")
    if not problems.items and reads["truth"].isna().any():
        for case in pd.unique(reads.loc[reads["truth"].isna(), "case"])[:20]:
            problems.add(f"case '{case}'", "has no truth")
    problems.raise_if_any()


def _groups(reads: pd.DataFrame):
    for (reader, modality), sub in reads.groupby(["reader", "modality"], sort=False):
        group = str(sub["group"].iloc[0]) if "group" in sub.columns else ""
        yield {"reader": str(reader), "modality": str(modality), "group": group, "n": int(len(sub))}, sub


def analyze_multiclass(
    reads: pd.DataFrame,
    labels: list[str] | None = None,
    positive: list[str] | None = None,
    answer: str = "answer",
    source: str = "reads",
) -> list[dict]:
    """Confusion matrix, accuracy, one-vs-rest rates and binary collapse per reader x modality."""
    _check(reads, ("reader", "modality", "case", "truth", answer), source)
    if labels is None:
        labels = [str(v) for v in pd.unique(pd.concat([reads["truth"], reads[answer]]).dropna().astype(str))]
    return [
        {
            **key,
            **multiclass_metrics(
                sub["truth"].astype(str).to_numpy(), sub[answer].astype(str).to_numpy(), labels, positive
            ),
        }
        for key, sub in _groups(reads)
    ]


def analyze_numeric(reads: pd.DataFrame, value: str = "value", source: str = "reads") -> list[dict]:
    """MAE, RMSE, Pearson r (Fisher CI) and Bland-Altman (read - truth) per reader x modality."""
    _check(reads, ("reader", "modality", "case", "truth", value), source)
    return [
        {**key, **numeric_summary(sub["truth"].to_numpy(float), sub[value].to_numpy(float))}
        for key, sub in _groups(reads)
    ]


def analyze_grades(reads: pd.DataFrame, distribution: str = "distribution", source: str = "reads") -> list[dict]:
    """Grade-distribution distances (EMD, grade/entropy/variance distance, precision @1/@2)
    of each reader's (or model's) distributions against the case's rater distribution in ``truth``."""
    _check(reads, ("reader", "modality", "case", "truth", distribution), source)
    out = []
    for key, sub in _groups(reads):
        pred = np.array([np.asarray(v, float) for v in sub[distribution]])
        raters = np.array([np.asarray(v, float) for v in sub["truth"]])
        out.append({**key, **grade_summary(pred, raters)})
    return out
