"""Validate and normalise a long-format reads table.

One row per read: ``reader, modality, case, truth, rating`` plus the optional
``decision`` (0/1), ``group`` and ``seconds``.  Identifiers become strings;
readers, modalities and cases keep the order of their first appearance, so
every table and plot lists them as the researcher's file does.  All problems
are collected and raised together as one :class:`StudyError`, one line each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from study.errors import ProblemList, StudyError

REQUIRED = ("reader", "modality", "case", "truth", "rating")
OPTIONAL = ("decision", "group", "seconds", "session")
_TRUE = {"1", "1.0", "true", "yes", "positive", "pos"}
_FALSE = {"0", "0.0", "false", "no", "negative", "neg"}


@dataclass(frozen=True)
class Threshold:
    """The cut that turns a rating into a decision (``rating >= value``)."""

    value: float
    source: str  # "given", "decision column", or how the midpoint was chosen


def order_of_appearance(values: pd.Series) -> list[str]:
    """Unique values in the order they first appear."""
    return [str(v) for v in pd.unique(values)]


def _show(value: object) -> str:
    """A value as the researcher typed it: 3.0 (pandas' float upcast) shows as 3."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_binary(values: pd.Series) -> pd.Series:
    """Map 0/1, booleans and yes/no words to 0/1; anything else to NaN."""
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    out[text.isin(_TRUE).fillna(False).to_numpy(bool)] = 1.0
    out[text.isin(_FALSE).fillna(False).to_numpy(bool)] = 0.0
    return out


def _ids(values: pd.Series) -> pd.Series:
    """Identifiers as strings; whole floats (1.0 from a CSV) lose the '.0'."""
    if pd.api.types.is_float_dtype(values) and values.dropna().eq(values.dropna().round()).all():
        values = values.astype("Int64")
    return values.astype("string").str.strip()


def normalise_reads(
    reads: pd.DataFrame,
    *,
    binary: bool = True,
    source: str = "reads",
    require_all_modalities: bool = True,
) -> pd.DataFrame:
    """Return a clean copy of ``reads`` or raise ``StudyError`` listing every problem.

    Checks: required columns present; no empty identifiers; ratings numeric;
    for a binary analysis truth is 0/1 and ``decision`` (if present) is 0/1;
    every case has one truth (not missing, not contradictory); no duplicate
    ``(reader, modality, case)`` read; every reader read every modality.
    """
    problems = ProblemList(source)
    missing = [c for c in REQUIRED if c not in reads.columns]
    for column in missing:
        problems.add(f"column '{column}'", "missing (required: " + ", ".join(REQUIRED) + ")")
    problems.raise_if_any()
    if len(reads) == 0:
        problems.add("rows", "the table has no reads")
        problems.raise_if_any()

    df = pd.DataFrame(index=pd.RangeIndex(len(reads)))
    for column in ("reader", "modality", "case"):
        df[column] = _ids(reads[column].reset_index(drop=True))
        empty = df[column].isna() | df[column].eq("")
        if empty.any():
            rows = ", ".join(str(i + 2) for i in np.flatnonzero(empty.to_numpy())[:5])
            problems.add(f"column '{column}'", f"empty in {int(empty.sum())} row(s) (file lines {rows})")

    rating = pd.to_numeric(reads["rating"].reset_index(drop=True), errors="coerce")
    bad = rating.isna()
    if bad.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:5])
        problems.add("column 'rating'", f"not a number in {int(bad.sum())} row(s) (file lines {rows})")
    df["rating"] = rating.astype("float64")

    truth_raw = reads["truth"].reset_index(drop=True)
    truth_given = truth_raw.notna() & truth_raw.astype("string").str.strip().ne("").fillna(False)
    if binary:
        truth = _to_binary(truth_raw)
        nonbinary = truth.isna() & truth_given
        if nonbinary.any():
            seen = ", ".join(sorted({_show(v) for v in truth_raw[nonbinary]})[:5])
            problems.add("column 'truth'", f"not binary (0/1) for a binary analysis: values {seen}")
    else:
        truth = truth_raw.where(truth_raw.astype("string").str.strip().ne(""))
    df["truth"] = truth

    if "decision" in reads.columns:
        dec_raw = reads["decision"].reset_index(drop=True)
        dec = _to_binary(dec_raw)
        bad = dec.isna()
        if bad.any():
            problems.add("column 'decision'", f"not 0/1 in {int(bad.sum())} row(s)")
        df["decision"] = dec
    if "group" in reads.columns:
        df["group"] = reads["group"].reset_index(drop=True).astype("string").fillna("").str.strip()
    if "seconds" in reads.columns:
        df["seconds"] = pd.to_numeric(reads["seconds"].reset_index(drop=True), errors="coerce").astype("float64")
    if "session" in reads.columns:
        df["session"] = reads["session"].reset_index(drop=True).astype("string")
    if df[["reader", "modality", "case"]].isna().any().any():
        problems.raise_if_any()  # the checks below group by these

    # One truth per case: known, and the same on every row of the case.
    # (A case whose truth is given but not binary was reported above.)
    by_case = df.groupby("case", sort=False)["truth"]
    known = by_case.count()
    given = truth_given.groupby(df["case"], sort=False).any()
    for case in known.index[known.eq(0) & ~given.reindex(known.index).to_numpy(bool)][:20]:
        problems.add(f"case '{case}'", "has no truth")
    n_truths = by_case.nunique()
    for case in n_truths.index[n_truths.gt(1)][:20]:
        problems.add(f"case '{case}'", "has contradictory truth values")
    # Rows with missing truth inherit the case's truth (a store may omit it on some rows).
    df["truth"] = by_case.transform("first")

    dup = df.duplicated(["reader", "modality", "case"], keep="first")
    if dup.any():
        first = df.loc[dup].iloc[0]
        problems.add(
            "rows",
            f"{int(dup.sum())} duplicate read(s), e.g. reader '{first['reader']}' "
            f"modality '{first['modality']}' case '{first['case']}'",
        )

    if require_all_modalities:
        modalities = order_of_appearance(df["modality"])
        read = df.groupby("reader", sort=False)["modality"].unique()
        for reader, have in read.items():
            for m in modalities:
                if m not in set(have):
                    problems.add(f"reader '{reader}'", f"has no reads in modality '{m}'")
    if binary and not problems.items:
        truths = set(df["truth"].dropna().unique())
        if truths and truths != {0.0, 1.0}:
            problems.add("column 'truth'", "needs both positive (1) and negative (0) cases")
    problems.raise_if_any()

    if binary:
        df["truth"] = df["truth"].astype("int64")
    if "group" in df.columns:
        # A reader belongs to one group: the first one given (blank rows don't count).
        named = df["group"].mask(df["group"].eq(""))
        df["group"] = named.groupby(df["reader"], sort=False).transform("first").fillna("")
    return df


# Rating scales readers and models commonly use, smallest first: the scale of a
# source is the first one that contains all its ratings (ties go to the scale
# starting at 1 when no rating is 0).
STANDARD_SCALES: tuple[tuple[float, float], ...] = ((1, 5), (0, 5), (1, 7), (0, 7), (1, 10), (0, 10), (0, 100))


@dataclass(frozen=True)
class Scale:
    """The range a source of ratings (the readers, the AI) rates on, and where it came from."""

    low: float
    high: float
    source: str  # "protocol", "given" or "inferred from the ratings"

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    def label(self) -> str:
        return f"{self.low:g}-{self.high:g}"


def infer_scale(ratings: pd.Series) -> Scale:
    """The rating scale of one source, inferred from its ratings.

    Probabilities in [0, 1] give the 0-1 scale; otherwise the smallest of
    :data:`STANDARD_SCALES` (1-5, 0-5, 1-7, 0-7, 1-10, 0-10, 0-100) that holds
    every rating; otherwise the observed range.  Raises ``ValueError`` when
    there are no ratings.
    """
    r = ratings.dropna().to_numpy(float)
    if r.size == 0:
        raise ValueError("no ratings to infer a scale from")
    lo, hi = float(r.min()), float(r.max())
    source = "inferred from the ratings"
    if lo >= 0 and hi <= 1:
        return Scale(0.0, 1.0, source)
    for s_lo, s_hi in STANDARD_SCALES:
        if lo >= s_lo and hi <= s_hi:
            return Scale(float(s_lo), float(s_hi), source)
    return Scale(lo, hi, "observed range of the ratings")


def infer_threshold(
    ratings: pd.Series, threshold: float | None = None, scale: Scale | None = None, who: str = "readers'"
) -> Threshold:
    """The decision cut: as given, else the midpoint of the rating scale.

    The scale is ``scale`` (e.g. from the protocol's task) or
    :func:`infer_scale` of the ratings: 0.5 on probabilities, 3 on 1-5,
    2.5 on 0-5, 5.5 on 1-10, 50 on 0-100; the observed range's midpoint
    when no standard scale fits.  A given threshold outside the scale raises
    ``StudyError`` naming the scale (``who``'s): every rating would fall on one side
    of it, so every decision would be the same.
    """
    sc = scale or (infer_scale(ratings) if ratings.notna().any() else None)
    if threshold is not None:
        # The call is rating >= threshold: at the scale's low end every rating is called positive
        # (sensitivity 1, specificity 0 by construction); at its high end only the top rating is.
        if sc is not None and not (sc.low < threshold <= sc.high):
            where = {"protocol": "the protocol's", "given": "the given"}.get(sc.source, sc.source)
            side = "at the low end of" if threshold == sc.low else "outside"
            raise StudyError(
                [
                    f"threshold {threshold:g} is {side} the {who} {sc.label()} rating scale ({where}): every "
                    f"rating would fall on one side of it (the call is rating >= threshold); give a threshold "
                    f"above {sc.low:g}, up to {sc.high:g}"
                ]
            )
        return Threshold(float(threshold), "given")
    what = "protocol's" if sc.source == "protocol" else ("observed" if sc.source.startswith("observed") else "inferred")
    return Threshold(sc.midpoint, f"midpoint of the {what} {sc.label()} scale")


def with_decisions(
    df: pd.DataFrame, threshold: float | None = None, scale: Scale | None = None
) -> tuple[pd.DataFrame, Threshold]:
    """Add an integer ``decision`` column if absent (``rating >= threshold``)."""
    if "decision" in df.columns and threshold is None:
        out = df.copy()
        out["decision"] = out["decision"].astype("int64")
        return out, Threshold(float("nan"), "own yes/no answers")
    cut = infer_threshold(df["rating"], threshold, scale)
    out = df.copy()
    out["decision"] = (out["rating"] >= cut.value).astype("int64")
    return out, cut
