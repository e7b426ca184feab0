"""Switching analysis: how readers' decisions change from the unaided to the aided read.

For each reader and case read both ways, the pair (unaided correct?, aided
correct?) is tallied separately for cases the AI got right and wrong:
wrong -> right is a beneficial switch, right -> wrong a harmful one.
Automation bias is the rate at which readers adopt the AI's answer when the
AI is wrong and their own unaided answer was different (i.e. right).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("wrong_to_right", "right_to_wrong", "stayed_right", "stayed_wrong")


def _tally(u: np.ndarray, a: np.ndarray) -> dict[str, int]:
    return {
        "wrong_to_right": int((~u & a).sum()),
        "right_to_wrong": int((u & ~a).sum()),
        "stayed_right": int((u & a).sum()),
        "stayed_wrong": int((~u & ~a).sum()),
    }


def switching(
    df: pd.DataFrame,
    ai_decision: pd.Series,
    unaided: str,
    aided: str,
) -> dict:
    """Switch counts per reader and in total, split by AI correctness.

    ``df``: normalised reads with ``decision``; ``ai_decision``: 0/1 indexed by case.
    Returns ``{"unaided", "aided", "total": {...}, "readers": [...]}`` where
    each block has ``ai_right`` / ``ai_wrong`` tallies and
    ``automation_bias`` = P(aided = AI | AI wrong, unaided ≠ AI) with its
    counts, and ``followed_wrong_ai`` = P(aided = AI | AI wrong).
    """
    u = df[df["modality"] == unaided].set_index(["reader", "case"])
    a = df[df["modality"] == aided].set_index(["reader", "case"])
    both = (
        u[["decision", "truth"]]
        .join(a[["decision"]].rename(columns={"decision": "decision_aided"}), how="inner")
        .reset_index()
    )
    both["ai"] = both["case"].map(ai_decision)
    both = both.dropna(subset=["ai"])

    def block(sub: pd.DataFrame) -> dict:
        truth = sub["truth"].to_numpy(int)
        du = sub["decision"].to_numpy(int)
        da = sub["decision_aided"].to_numpy(int)
        ai = sub["ai"].to_numpy(int)
        uc, ac, ai_ok = du == truth, da == truth, ai == truth
        wrong = ~ai_ok
        exposed = wrong & (du != ai)
        followed = exposed & (da == ai)
        return {
            "n": int(len(sub)),
            "ai_right": _tally(uc[ai_ok], ac[ai_ok]),
            "ai_wrong": _tally(uc[wrong], ac[wrong]),
            "automation_bias": {
                "rate": float(followed.sum() / exposed.sum()) if exposed.any() else float("nan"),
                "followed": int(followed.sum()),
                "opportunities": int(exposed.sum()),
            },
            "followed_wrong_ai": float((da[wrong] == ai[wrong]).mean()) if wrong.any() else float("nan"),
        }

    readers = [str(r) for r in pd.unique(both["reader"])]
    return {
        "unaided": unaided,
        "aided": aided,
        "total": block(both),
        "readers": [{"reader": r, **block(both[both["reader"] == r])} for r in readers],
    }
