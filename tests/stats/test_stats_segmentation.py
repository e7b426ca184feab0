"""Dice and IoU."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

from study.stats.segmentation import dice, iou, overlap_summary


def test_hand_example():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2, :2] = True  # 4 pixels
    b[1:3, 1:3] = True  # 4 pixels, 1 shared
    assert dice(a, b) == pytest.approx(2 / 8)
    assert iou(a, b) == pytest.approx(1 / 7)
    assert dice(a, a) == 1.0 and dice(np.zeros(3), np.zeros(3)) == 1.0


@settings(max_examples=50, deadline=None)
@given(arrays(bool, (6, 6)), arrays(bool, (6, 6)))
def test_dice_iou_relation(a, b):
    j = iou(a, b)
    assert dice(a, b) == pytest.approx(2 * j / (1 + j))


def test_summary_means():
    a = np.ones(4, bool)
    s = overlap_summary([(a, a), (a, ~a)])
    assert s["mean_dice"] == 0.5 and s["dice"] == [1.0, 0.0]
