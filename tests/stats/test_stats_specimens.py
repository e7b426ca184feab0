"""Specimen-level statistics (issue 17) against tables worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from study.errors import StudyError
from study.stats.binary import wilson_ci
from study.stats.specimens import specimen_summary, top_k_flags
from study.stats.tasks import analyze_multiclass

# Reader A (aided): 3 specimens; reader A (unaided): 2; reader B (aided): 1 with no views (single image).
READS = pd.DataFrame(
    [
        ("A", "aided", "S1", 12.0, 1),
        ("A", "aided", "S2", 30.0, 2),
        ("A", "aided", "S3", 18.0, 3),
        ("A", "unaided", "S1", 40.0, 4),
        ("A", "unaided", "S2", 20.0, 5),
        ("B", "aided", "S4", 5.0, 6),
    ],
    columns=["reader", "modality", "case", "seconds", "read_id"],
)
# (read_id, case, field_index, decisive, in_top_k)
VIEWS = pd.DataFrame(
    [
        (1, "S1", 2, True, True),  # S1 aided: one field, decisive, an AI pick
        (2, "S2", 0, False, True),  # S2 aided: fields 0, 3, 0 again; decisive 3 is not a pick
        (2, "S2", 3, True, False),
        (2, "S2", 0, False, True),
        (3, "S3", 1, False, True),  # S3 aided: fields 1, 2; decisive 2 is a pick
        (3, "S3", 2, True, True),
        (4, "S1", 0, False, None),  # unaided: the AI's picks are unknown to the store
        (4, "S1", 1, False, None),
        (4, "S1", 2, True, None),
        (5, "S2", 1, True, None),
    ],
    columns=["read_id", "case", "field_index", "decisive", "in_top_k"],
)


def test_per_reader_and_mode_against_the_hand_table():
    rows = {(r["reader"], r["modality"]): r for r in specimen_summary(READS, VIEWS)}
    assert set(rows) == {("A", "aided"), ("A", "unaided")}  # B's single image has no gallery
    a = rows[("A", "aided")]
    assert a["specimens"] == 3
    assert a["seconds_mean"] == pytest.approx(20.0) and a["seconds_median"] == 18.0
    assert a["fields_opened_mean"] == pytest.approx((1 + 2 + 2) / 3)  # distinct fields
    assert a["openings_mean"] == pytest.approx((1 + 3 + 2) / 3)
    assert (a["decisive_known"], a["decisive_in_top_k"]) == (3, 2)
    assert a["decisive_in_top_k_rate"] == pytest.approx(2 / 3)
    assert a["ai_pick_miss_rate"] == pytest.approx(1 / 3)
    assert a["decisive_in_top_k_ci95"] == pytest.approx(list(wilson_ci(2, 3)))
    u = rows[("A", "unaided")]
    assert u["fields_opened_mean"] == 2.0 and u["seconds_mean"] == 30.0
    assert u["decisive_known"] == 0 and math.isnan(u["decisive_in_top_k_rate"])


def test_unaided_decisive_fields_against_the_ai_picks_filled_in():
    # The AI's top-2 per specimen: S1 {2, 0}, S2 {3, 0}.
    filled = top_k_flags(VIEWS, {"S1": frozenset({2, 0}), "S2": frozenset({3, 0})})
    u = {(r["reader"], r["modality"]): r for r in specimen_summary(READS, filled)}[("A", "unaided")]
    # S1's decisive field 2 is a pick, S2's decisive field 1 is not: 1 of 2.
    assert (u["decisive_known"], u["decisive_in_top_k"]) == (2, 1)
    assert u["ai_pick_miss_rate"] == pytest.approx(0.5)


def test_missing_column_is_named():
    with pytest.raises(StudyError, match="field views.*in_top_k"):
        specimen_summary(READS, VIEWS.drop(columns=["in_top_k"]))


def test_specimen_level_one_vs_rest_and_cin2_collapse_by_hand():
    """Each case is a specimen: per-class one-vs-rest and the CIN2+ collapse on 6 specimens."""
    reads = pd.DataFrame(
        {
            "reader": ["A"] * 6,
            "modality": ["aided"] * 6,
            "case": [f"S{i}" for i in range(6)],
            "truth": ["normal", "normal", "CIN1", "CIN1", "CIN2+", "CIN2+"],
            "answer": ["normal", "CIN1", "CIN1", "CIN2+", "CIN2+", "CIN2+"],
        }
    )
    (r,) = analyze_multiclass(reads, labels=["normal", "CIN1", "CIN2+"], positive=["CIN2+"])
    # normal: TP 1, FN 1, FP 0, TN 4; CIN1: TP 1, FN 1, FP 1, TN 3; CIN2+: TP 2, FN 0, FP 1, TN 3
    assert r["per_class"]["normal"]["sensitivity"] == 0.5 and r["per_class"]["normal"]["specificity"] == 1.0
    assert r["per_class"]["CIN1"]["sensitivity"] == 0.5 and r["per_class"]["CIN1"]["specificity"] == 0.75
    assert r["per_class"]["CIN2+"]["sensitivity"] == 1.0 and r["per_class"]["CIN2+"]["specificity"] == 0.75
    collapse = r["binary_collapse"]
    assert collapse["positive"] == ["CIN2+"]
    assert collapse["sensitivity"] == 1.0 and collapse["specificity"] == 0.75
