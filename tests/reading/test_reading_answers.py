"""Answer states per task kind: keys set answers, nothing completes without an answer."""

from __future__ import annotations

import pytest

from app.reading.answers import (
    BinaryAnswer,
    GradeAnswer,
    MulticlassAnswer,
    NumericAnswer,
    answer_for,
)
from tests.reading.helpers import TASKS


def test_binary_needs_label_and_likelihood_and_counts_changes():
    a = BinaryAnswer(("benign", "malignant"), (0, 100))
    assert not a.complete and "1 or 2" in a.problem
    assert a.key("2") and a.label_index == 1
    assert not a.complete and "likelihood" in a.problem  # no default rating: it would bias ROC
    assert a.key("up") and a.confidence == 55  # one step up from the neutral 50, not a jump to 50
    a.key("up"), a.key("up")
    assert a.confidence == 65
    a.key("left")
    a.key("right")
    assert a.complete
    f = a.fields()
    assert (f.answer, f.confidence) == ("1", 65.0)
    assert a.changes == 2  # malignant -> benign -> malignant
    assert not a.key("3") and not a.key("x")


def test_binary_five_point_scale_clamps():
    a = BinaryAnswer(("no", "yes"), (1, 5))
    a.key("down")
    assert a.confidence == 2  # one step down from the neutral 3
    for _ in range(5):
        a.key("down")
    assert a.confidence == 1
    a.set_confidence(9)
    assert a.confidence == 5


def test_multiclass_digits_and_arrows():
    a = MulticlassAnswer(("normal", "CIN1", "CIN2+"))
    assert not a.complete and not a.key("4")
    a.key("down")
    assert a.fields().answer == "normal"
    a.key("down"), a.key("down"), a.key("down")
    assert a.fields().answer == "CIN2+"
    a.key("1")
    assert a.fields().answer == "normal" and a.changes == 3  # normal, CIN1, CIN2+, normal


def test_grade_single_and_split():
    a = GradeAnswer(("A", "B", "C", "D", "E"))
    assert not a.complete
    a.key("3")
    f = a.fields()
    assert f.answer == "C" and f.distribution == (0, 0, 1.0, 0, 0)
    a.set_split_mode(True)  # starts from the single grade
    assert a.shares == [0, 0, 100, 0, 0] and a.complete
    a.set_share(2, 40)
    assert not a.complete and "60" in a.problem
    a.set_share(1, 60)
    f = a.fields()
    assert a.complete and f.answer == "B" and f.distribution == (0, 0.6, 0.4, 0, 0)
    a.key("right")  # keys go back to a single grade
    assert not a.split_mode and a.fields().answer == "D"  # one right of C


def test_numeric_range_check_and_arrows():
    a = NumericAnswer("g/dL", 3.0, 20.0)
    assert a.problem.startswith("Type a value")
    a.set_text("abc")
    assert a.problem == "Not a number."
    a.set_text("25")
    assert "3-20 g/dL" in a.problem
    a.set_text("12,5")
    assert a.complete and a.fields().value == 12.5 and a.fields().answer == "12.5"
    a.key("up")
    assert a.text == "12.6"
    a.set_text("")
    assert not a.key("down") and not a.key("up")  # no anchor: nothing typed, nothing invented
    assert a.text == "" and a.problem.startswith("Type a value")


@pytest.mark.parametrize("scale", [(0, 100), (1, 5)])
def test_binary_first_key_leans_from_neutral(scale):
    lo, hi = scale
    mid = (lo + hi) / 2
    for key, sign in (("up", 1), ("down", -1)):
        a = BinaryAnswer(("neg", "pos"), scale)
        a.key(key)
        assert a.confidence == mid + sign * a.step  # 55/45 on 0-100, 4/2 on 1-5


@pytest.mark.parametrize("kind", list(TASKS))
def test_every_task_kind_has_an_answer(kind):
    a = answer_for(TASKS[kind])
    assert not a.complete and a.problem
