"""Grade-distribution distances, hand-computed examples."""

import numpy as np
import pytest

from study.stats.grades import grade_distances, grade_summary


def test_identical_distributions_are_at_distance_zero():
    p = np.array([[0.1, 0.2, 0.3, 0.4, 0.0]])
    d = grade_distances(p, p)
    for key in ("emd", "average_grade_distance", "entropy_distance", "variance_distance"):
        assert d[key][0] == pytest.approx(0.0, abs=1e-12)
    assert d["precision_at_1"][0] == 1.0


def test_point_masses():
    a = np.array([[1, 0, 0, 0, 0]])
    c = np.array([[0, 0, 1, 0, 0]])
    d = grade_distances(a, c)
    assert d["emd"][0] == 2.0  # move all mass two grades
    assert d["average_grade_distance"][0] == 2.0
    assert d["entropy_distance"][0] == 0.0 and d["variance_distance"][0] == 0.0
    assert d["precision_at_1"][0] == 0.0


def test_entropy_variance_and_precision_at_2():
    uniform4 = np.array([[0.25, 0.25, 0.25, 0.25]])
    point = np.array([[0, 1, 0, 0]])
    d = grade_distances(uniform4, point)
    assert d["entropy_distance"][0] == pytest.approx(2.0)  # 2 bits vs 0
    assert d["variance_distance"][0] == pytest.approx(1.25)  # Var of uniform on 0..3
    pred = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    raters = np.array([[0.2, 0.6, 0.2], [0.0, 0.1, 0.9]])
    d = grade_distances(pred, raters)
    assert d["precision_at_1"].tolist() == [0.0, 1.0]
    assert d["precision_at_2"].tolist() == [1.0, 1.0]
    s = grade_summary(pred, raters)
    assert s["precision_at_1"] == 0.5
    # EMD case 1: CDFs (.5,.8,1) vs (.2,.8,1) -> 0.3
    assert d["emd"][0] == pytest.approx(0.3)


def test_counts_are_normalised():
    d = grade_distances(np.array([[2, 2]]), np.array([[21, 21]]))
    assert d["emd"][0] == pytest.approx(0.0)
