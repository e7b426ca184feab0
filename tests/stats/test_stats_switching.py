"""Unaided -> aided switching by AI correctness, automation bias."""

import pandas as pd
import pytest

from study.stats.switching import switching


def reads(rows):
    return pd.DataFrame(rows, columns=["reader", "modality", "case", "truth", "decision"])


def test_hand_built_switches():
    # truth / AI / unaided / aided for one reader:
    #   c1: 1 / 1 / 0 / 1  AI right, wrong -> right
    #   c2: 0 / 0 / 0 / 1  AI right, right -> wrong
    #   c3: 1 / 0 / 1 / 0  AI wrong, right -> wrong, followed the AI (automation bias)
    #   c4: 0 / 1 / 0 / 0  AI wrong, stayed right (resisted)
    #   c5: 1 / 0 / 0 / 0  AI wrong, stayed wrong (agreed with AI already: no opportunity)
    spec = {"c1": (1, 1, 0, 1), "c2": (0, 0, 0, 1), "c3": (1, 0, 1, 0), "c4": (0, 1, 0, 0), "c5": (1, 0, 0, 0)}
    rows = []
    for c, (t, _ai, u, a) in spec.items():
        rows += [("r1", "unaided", c, t, u), ("r1", "aided", c, t, a)]
    ai = pd.Series({c: v[1] for c, v in spec.items()})
    res = switching(reads(rows), ai, "unaided", "aided")
    tot = res["total"]
    assert tot["ai_right"] == {"wrong_to_right": 1, "right_to_wrong": 1, "stayed_right": 0, "stayed_wrong": 0}
    assert tot["ai_wrong"] == {"wrong_to_right": 0, "right_to_wrong": 1, "stayed_right": 1, "stayed_wrong": 1}
    assert tot["automation_bias"] == {"rate": pytest.approx(0.5), "followed": 1, "opportunities": 2}
    assert tot["followed_wrong_ai"] == pytest.approx(2 / 3)
    assert res["readers"][0]["reader"] == "r1"


def test_cases_without_ai_are_ignored():
    rows = [
        ("r1", "unaided", "c1", 1, 1),
        ("r1", "aided", "c1", 1, 1),
        ("r1", "unaided", "c2", 0, 0),
        ("r1", "aided", "c2", 0, 0),
    ]
    res = switching(reads(rows), pd.Series({"c1": 1}), "unaided", "aided")
    assert res["total"]["n"] == 1
