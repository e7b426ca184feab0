"""Non-binary tasks on the long-format table."""

import pandas as pd
import pytest

from study.errors import StudyError
from study.stats.numeric import bland_altman
from study.stats.tasks import analyze_grades, analyze_multiclass, analyze_numeric


def test_multiclass_per_reader():
    reads = pd.DataFrame(
        {
            "reader": ["a"] * 4 + ["b"] * 4,
            "modality": ["unaided"] * 8,
            "case": ["1", "2", "3", "4"] * 2,
            "truth": ["normal", "CIN1", "CIN2+", "CIN2+"] * 2,
            "answer": ["normal", "CIN1", "CIN2+", "CIN1", "normal", "normal", "CIN2+", "CIN2+"],
        }
    )
    rows = analyze_multiclass(reads, positive=["CIN2+"])
    assert [r["reader"] for r in rows] == ["a", "b"]
    assert rows[0]["accuracy"] == 0.75 and rows[1]["accuracy"] == 0.75
    assert rows[0]["binary_collapse"]["sensitivity"] == 0.5
    assert rows[1]["binary_collapse"]["sensitivity"] == 1.0
    assert rows[0]["labels"] == ["normal", "CIN1", "CIN2+"]


def test_numeric_per_reader():
    reads = pd.DataFrame(
        {
            "reader": "m",
            "modality": "ai",
            "case": list("abcde"),
            "truth": [10, 12, 9, 14, 11.0],
            "value": [10.5, 11, 9.5, 13, 12],
        }
    )
    (row,) = analyze_numeric(reads)
    assert row["bland_altman"]["bias"] == pytest.approx(bland_altman(reads["value"], reads["truth"])["bias"])
    assert row["mae"] == pytest.approx(0.8)


def test_grades_per_reader():
    reads = pd.DataFrame(
        {
            "reader": "model",
            "modality": "ai",
            "case": ["v1", "v2"],
            "truth": [[0.5, 0.5, 0], [0, 0, 1]],
            "distribution": [[0.5, 0.5, 0], [0, 1, 0]],
        }
    )
    (row,) = analyze_grades(reads)
    assert row["emd"] == pytest.approx(0.5)  # (0 + 1) / 2
    assert row["precision_at_1"] == 0.5


def test_missing_truth_reported():
    reads = pd.DataFrame(
        {"reader": "m", "modality": "ai", "case": ["a", "b"], "truth": [1.0, None], "value": [1.0, 2.0]}
    )
    with pytest.raises(StudyError) as exc:
        analyze_numeric(reads, source="hb.csv")
    assert exc.value.problems == ["hb.csv: case 'b': has no truth"]
