"""Multiclass confusion matrix, one-vs-rest and binary collapse."""

import pytest

from study.stats.multiclass import multiclass_metrics

TRUTH = ["normal"] * 5 + ["CIN1"] * 3 + ["CIN2+"] * 4
PRED = ["normal", "normal", "normal", "normal", "CIN1", "CIN1", "normal", "CIN1", "CIN2+", "CIN2+", "CIN2+", "CIN1"]


def test_confusion_and_one_vs_rest():
    res = multiclass_metrics(TRUTH, PRED, labels=["normal", "CIN1", "CIN2+"], positive=["CIN2+"])
    assert res["counts"] == [[4, 1, 0], [1, 2, 0], [0, 1, 3]]
    assert res["accuracy"] == pytest.approx(9 / 12)
    cin2 = res["per_class"]["CIN2+"]
    assert (cin2["tp"], cin2["fn"], cin2["fp"], cin2["tn"]) == (3, 1, 0, 8)
    assert cin2["sensitivity"] == 0.75 and cin2["specificity"] == 1.0
    cin1 = res["per_class"]["CIN1"]
    assert cin1["sensitivity"] == pytest.approx(2 / 3) and cin1["specificity"] == pytest.approx(7 / 9)
    collapse = res["binary_collapse"]
    assert (collapse["tp"], collapse["fn"], collapse["tn"], collapse["fp"]) == (3, 1, 8, 0)


def test_labels_default_to_order_of_appearance():
    res = multiclass_metrics(["b", "a"], ["a", "a"])
    assert res["labels"] == ["b", "a"]
