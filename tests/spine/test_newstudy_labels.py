"""`readerstudy new`'s positive label: contradictory or unusable --positive is refused with the
reason, never followed by a silent choice (``study.newstudy.binary_labels``)."""

from __future__ import annotations

import pytest

from study.errors import StudyError
from study.newstudy import binary_labels


def _truth(tmp_path, labels):
    path = tmp_path / "truth.csv"
    path.write_text("case_id,truth\n" + "".join(f"C{i},{t}\n" for i, t in enumerate(labels)))
    return path


def test_positive_contradicting_labels_is_refused(tmp_path):
    table = _truth(tmp_path, ["glaucoma", "normal"] * 3)
    with pytest.raises(StudyError) as err:  # --labels makes "normal" positive: the opposite of --positive
        binary_labels(table, ("glaucoma", "normal"), "glaucoma")
    assert "--positive 'glaucoma' contradicts --labels glaucoma normal" in str(err.value)
    assert binary_labels(table, ("normal", "glaucoma"), "glaucoma") == ("normal", "glaucoma")


def test_labels_differing_only_by_case_are_named_as_such(tmp_path):
    table = _truth(tmp_path, ["Glaucoma", "glaucoma", "glaucoma ", "normal", "normal", "normal"])
    with pytest.raises(StudyError) as err:
        binary_labels(table, None, "glaucoma")
    assert "differ only in upper/lower case or spaces" in str(err.value)


def test_positive_on_a_0_1_truth_says_1_is_positive(tmp_path):
    table = _truth(tmp_path, ["0", "1"] * 3)
    with pytest.raises(StudyError) as err:
        binary_labels(table, None, "0")
    assert "the truth is 0/1 (1 is positive)" in str(err.value)
