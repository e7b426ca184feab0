"""Is a binary read's category consistent with its likelihood rating? (no Qt)

A binary task asks for a category (negative / positive label) and a rating of
the likelihood of the positive label.  "leiomyoma" with a 75 % likelihood of
sarcoma, or "sarcoma" with 5 %, contradict each other: decision statistics
(sensitivity, specificity) would come from the category while the ROC / AUC
comes from the rating, so the two analyses would describe different reads.

Rule: the midpoint of the scale (50 on 0-100, 3 on 1-5) is neutral and agrees
with either category; a rating on the positive side of the midpoint with the
negative category, or on the negative side with the positive category, is a
contradiction.  The protocol's ``task.consistency`` chooses what happens:
``"warn"`` (default: the reader is told and must confirm; the read is stored
with ``consistency = "contradictory"``) or ``"block"`` (the read is refused
until category and rating agree).
"""

from __future__ import annotations

CONSISTENT = "consistent"
CONTRADICTORY = "contradictory"
CONSISTENCY_POLICIES = ("warn", "block")


def scale_midpoint(scale: tuple[int, int]) -> float:
    """Neutral rating of a confidence scale: 50 on (0, 100), 3 on (1, 5)."""
    lo, hi = scale
    return (lo + hi) / 2


def binary_consistency(answer_index: int, confidence: float | None, scale: tuple[int, int]) -> str | None:
    """``"consistent"`` / ``"contradictory"`` for a binary read; None without a rating.

    answer_index: 0 = negative label, 1 = positive label.
    confidence: likelihood of the positive label on ``scale`` (inclusive ends).
    """
    if confidence is None:
        return None
    mid = scale_midpoint(scale)
    if (answer_index == 0 and confidence > mid) or (answer_index == 1 and confidence < mid):
        return CONTRADICTORY
    return CONSISTENT


def contradiction_text(labels: tuple[str, str], answer_index: int, confidence: float, scale: tuple[int, int]) -> str:
    """The reader-facing sentence naming both fields, e.g.
    'You chose "leiomyoma" but rated the likelihood of sarcoma 75 on the 0-100 scale.'"""
    lo, hi = scale
    return (
        f"You chose \u201c{labels[answer_index]}\u201d but rated the likelihood of "
        f"{labels[1]} {confidence:g} on the {lo}\u2013{hi} scale."
    )
