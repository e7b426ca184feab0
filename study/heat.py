"""How strongly the AI's heat map is drawn: as strongly as the AI scores the class the heat explains.

A CAM is stored normalized per image to [0, 1] (grad-cam's convention, kept for the
statistics, ``cam_quality`` and the exports), so its hottest pixel is saturated
whatever the model thinks of the image: a field the model scores P(CIN2+) = 0.00
would show the same red blot as one it scores 0.99, "the AI points here" beside a
number that says it does not, an invitation to automation bias.

On screen the overlay's opacity (the reader's slider) is multiplied by a *strength*
in [0, 1] that follows the AI's score for the CAM's target class relative to the
model's operating point:

* the CAM explains the positive class(es) the operating point cuts (MRI sarcoma,
  cytology CIN2+): strength = min(1, score / cut-off).  A case at or above the
  cut-off (the AI calls it positive) shows full heat; a case far below it shows
  faint heat or none (score 3 % at a 45 % cut-off: 7 % of the chosen opacity),
  and a case just below it nearly full heat (a borderline call, where the reader
  may want to look);
* a binary model's CAM of its negative class: the same rule on that class's
  score (1 - score) against its cut (1 - cut-off);
* a class without an operating point (a multiclass label the cut does not name,
  a motility grade): its probability relative to the most likely class's
  (the predicted class: full strength);
* a regression CAM (hemoglobin) explains a value, not a suspicion: full strength;
* a whole-slide score map is not normalized (each tile's own score), so it is not
  scaled again.

The CAM's class is ``AIOutput.cam_target``; outputs stored before it was recorded
are taken to explain the positive class when the model has an operating point
(the safe reading: a negative call then never shows full heat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from study.aioutput import AIOutput

SCOREMAP_SUFFIX = "#scoremap"  # study.wsi_scores.SCOREMAP, without importing the slide code here


@dataclass(frozen=True)
class HeatStrength:
    """strength: gain in [0, 1] on the heat overlay's opacity.  note: one line for the AI panel
    next to the heat toggle, "" when there is nothing to say (a regression's heat)."""

    strength: float = 1.0
    note: str = ""

    @property
    def faded(self) -> bool:
        return self.strength < 1.0


FULL = HeatStrength()


def _pct(value: float, other: float | None = None) -> str:
    """ "3 %"; one decimal when the whole percents of ``value`` and ``other`` would read the same."""
    text = f"{100 * value:.0f} %"
    if other is not None and text == f"{100 * other:.0f} %" and value != other:
        return f"{100 * value:.1f} %"
    return text


def positive_labels(out: AIOutput, fallback: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The labels the operating point cuts (binary: the second label); ``fallback`` for outputs
    that do not name them (the study's own positive labels)."""
    if out.positive:
        return tuple(out.positive)
    if out.head == "binary" and len(out.labels) == 2:
        return (out.labels[1],)
    return tuple(fallback)


def operating_cut(out: AIOutput) -> float | None:
    """The cut-off on ``score`` the AI's call uses: the stored threshold, 0.5 for a binary model
    without one (its call is then the larger bar), None for other heads without one."""
    if out.threshold is not None and math.isfinite(out.threshold):
        return float(out.threshold)
    return 0.5 if out.head == "binary" else None


def heat_strength(
    out: AIOutput | None, field: int | None = None, fallback_positive: tuple[str, ...] = ()
) -> HeatStrength:
    """How strongly to draw ``out``'s CAM (see the module doc for the rule).

    ``field``: a specimen's field whose CAM is on screen (its own score decides, not the
    specimen's); None for a case of one image (a specimen then shows field 0's CAM, as
    ``inference.specimen`` stores it under the bare role).  ``fallback_positive``: the study's
    positive labels for outputs that do not name theirs.  Never raises on an odd output: a
    score that is not a number gives full strength and says so."""
    if out is None or out.head not in ("binary", "multiclass", "grade_distribution"):
        return FULL
    if any(key.endswith(SCOREMAP_SUFFIX) for key in out.cams):
        return HeatStrength(1.0, "Slide heat: each tile's own AI score, not scaled per slide.")
    score, probabilities, predicted = out.score, out.probabilities, out.predicted
    whose = "AI"
    if out.fields:
        index = 0 if field is None else field
        match = [f for f in out.fields if f.index == index]
        if match:
            score, probabilities, predicted = match[0].score, match[0].probabilities, match[0].predicted
            whose = "this field's AI"  # the panel's bars are the specimen's: say whose score this is
    positive = positive_labels(out, fallback_positive)
    cut = operating_cut(out)
    target = out.cam_target
    if target == "predicted":
        targets = (predicted,) if predicted else ()
    elif target:
        targets = (target,)
    elif positive and cut is not None:
        targets = positive  # stored before the CAM's class was recorded: the safe reading
    else:
        targets = (predicted,) if predicted else ()
    if not targets:
        return FULL
    name = " or ".join(targets)
    if cut is not None and out.head in ("binary", "multiclass") and set(targets) == set(positive):
        return _against_cut(score, cut, f"{whose} {name}")
    if cut is not None and out.head == "binary" and len(out.labels) == 2 and targets == (out.labels[0],):
        return _against_cut(1.0 - score, 1.0 - cut, f"{whose} {name}")
    return _against_top(probabilities, out.labels, targets[0], whose)


def _against_cut(score: float, cut: float, name: str) -> HeatStrength:
    """``name``: whose score of which class, "AI sarcoma" / "this field's AI CIN2+"."""
    if not math.isfinite(score):
        return HeatStrength(1.0, f"{name} score unknown: heat not scaled.")
    if score >= cut or cut <= 0:
        return HeatStrength(1.0, f"Heat at full strength: {name} score {_pct(score, cut)} reaches the cut-off.")
    strength = max(0.0, score / cut)
    return HeatStrength(
        strength,
        f"Heat faded to {_pct(strength)} strength: {name} score {_pct(score, cut)}"
        f" is below the cut-off {_pct(cut, score)}.",
    )


def _against_top(
    probabilities: tuple[float, ...], labels: tuple[str, ...], target: str, whose: str = "AI"
) -> HeatStrength:
    if target not in labels or len(probabilities) != len(labels):
        return FULL
    p = probabilities[labels.index(target)]
    top = max(probabilities)
    if not (math.isfinite(p) and math.isfinite(top)) or top <= 0:
        return HeatStrength(1.0, f"{whose} {target} probability unknown: heat not scaled.")
    if p >= top:
        return FULL  # the heat explains the AI's own call
    strength = max(0.0, p / top)
    top_label = labels[probabilities.index(top)]
    return HeatStrength(
        strength,
        f"Heat faded to {_pct(strength)} strength: {whose} {target} {_pct(p, top)} against {top_label} {_pct(top, p)}.",
    )
