"""study.specimen: field lists, aggregation and top-k against hand-made values."""

from __future__ import annotations

import math

import pytest

from study.specimen import (
    FieldScore,
    aggregate_probabilities,
    aggregate_scores,
    field_paths,
    ranked,
    top_k,
    worst_class,
)


def test_field_paths_from_a_list_a_folder_and_one_file(tmp_path):
    assert field_paths("/a/1.png; /a/2.png;") == ("/a/1.png", "/a/2.png")
    folder = tmp_path / "S1"
    folder.mkdir()
    for name in ("b.png", "a.jpg"):
        (folder / name).write_bytes(b"x")
    assert field_paths(folder) == (str(folder / "a.jpg"), str(folder / "b.png"))
    (folder / "IM0001").write_bytes(b"x")  # a DICOM series folder is one medium
    assert field_paths(folder) == (str(folder),)
    assert field_paths("/a/one.png") == ("/a/one.png",)


def test_aggregation_by_hand():
    # normal, CIN1, CIN2+ per field
    a = FieldScore(0, 0.05, (0.15, 0.80, 0.05))  # a CIN1 field
    b = FieldScore(1, 0.20, (0.70, 0.10, 0.20))  # a mostly normal field with a higher CIN2+ score
    assert aggregate_scores([0.05, 0.20], "max") == 0.20
    assert aggregate_scores([0.05, 0.20], "mean") == pytest.approx(0.125)
    assert aggregate_scores([math.nan, 0.3]) == 0.3 and math.isnan(aggregate_scores([math.nan]))
    # max: P(>= CIN1) = max(0.85, 0.30) = 0.85, P(CIN2+) = 0.20 -> (0.15, 0.65, 0.20): CIN1 wins,
    # the most severe field's class, although field b has the higher CIN2+ score.
    assert aggregate_probabilities([a, b], "max") == pytest.approx((0.15, 0.65, 0.20))
    assert aggregate_probabilities([a, b], "mean") == pytest.approx((0.425, 0.45, 0.125))
    with pytest.raises(ValueError, match="'median' is not one of max, mean"):
        aggregate_scores([0.1], "median")


def test_ranking_top_k_and_worst_class():
    fields = [FieldScore(0, 0.3), FieldScore(1, 0.9), FieldScore(2, math.nan), FieldScore(3, 0.3)]
    assert [f.index for f in ranked(fields)] == [1, 0, 3, 2]  # ties keep stored order, NaN last
    assert top_k(fields, 2) == {1, 0} and top_k(fields, 9) == {0, 1, 3}
    labels = ("normal", "CIN1", "CIN2+")
    assert worst_class(labels, ["normal", "CIN2+", "CIN1"]) == "CIN2+"
    with pytest.raises(ValueError, match="'HSIL' is not one of"):
        worst_class(labels, ["HSIL"])
