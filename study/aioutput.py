"""The AI's output for one case, as plain data.

``inference`` produces these, the store keeps them, the reading screen shows
them.  A CAM is a float array in [0, 1], one (H, W) map per frame of a role:
shape (N, H, W), stored as float16 at reduced size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from study.specimen import FieldScore


@dataclass(frozen=True)
class AIOutput:
    """Prediction and explanations of one model for one case.

    head: "binary" | "multiclass" | "regression" | "grade_distribution" | "segmentation".
    labels: class or grade names, in the order of ``probabilities``.
    probabilities: per-class probabilities (binary: [p_negative, p_positive];
        grade_distribution: the predicted distribution over grades).
    value / interval: for regression, the predicted number and an optional
        (low, high) interval in the task's unit.
    predicted: the predicted label (argmax) or, for regression, str(value).
    score: one number where higher means "more suspicious" (binary: p_positive;
        multiclass: summed probability of the positive labels or of the top
        class; regression: the value) used for triage ordering and ROC.
    cams: role -> (N, H, W) float16 in [0, 1]; for segmentation the mask
        probabilities.  Empty when no CAM was computed.
    threshold: the model's operating point on ``score`` (positive when
        ``score >= threshold``), chosen on a validation split and stored in
        its model.toml; None when the model has none (argmax / 0.5).
    threshold_rule: how ``threshold`` was chosen (model.toml's ``threshold_rule``,
        e.g. "youden"); "" when unknown.
    positive: the labels whose probability (summed) is ``score`` and is cut at
        ``threshold`` (binary: the positive label); () when unknown.
    cam_target: the class the CAMs explain, as model.toml's ``[cam] target`` says:
        a label, or "predicted" (each image's or field's own predicted label);
        "" when unknown (outputs stored before it was recorded) or no CAM.
    model_id: sha256 of the weights file; versions: library versions used.
    measurements: segmentation heads: measurements of the predicted region by
        name (e.g. "faz_area_mm2", "circularity"); empty otherwise.
    fields: a specimen's per-field outputs (``study.specimen.FieldScore``, in the
        stored field order); empty for a case of one image.  The specimen's own
        ``probabilities``/``score`` aggregate them (``aggregate``: "max" | "mean").
        The CAM of field i is ``cams[field_cam_key(role, i)]``, shape (1, H, W).
    """

    case_id: str
    model_id: str
    head: str
    labels: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    value: float | None = None
    interval: tuple[float, float] | None = None
    predicted: str = ""
    score: float = float("nan")
    cams: dict[str, np.ndarray] = field(default_factory=dict, compare=False)
    cam_method: str = ""
    versions: dict[str, str] = field(default_factory=dict, compare=False)
    measurements: dict[str, float] = field(default_factory=dict, compare=False)
    fields: tuple[FieldScore, ...] = ()
    aggregate: str = ""
    threshold: float | None = None
    threshold_rule: str = ""
    positive: tuple[str, ...] = ()
    cam_target: str = ""

    @property
    def decision(self) -> int | None:
        """1 positive / 0 negative at the model's operating point (0.5 without one); None for other heads."""
        if self.head == "binary" or (self.head == "multiclass" and self.threshold is not None):
            return int(self.score >= (0.5 if self.threshold is None else self.threshold))
        return None

    def field_cam(self, role: str, index: int) -> np.ndarray | None:
        """The (1, H, W) CAM of field ``index`` of a specimen, or None."""
        return self.cams.get(field_cam_key(role, index))


def field_cam_key(role: str, index: int) -> str:
    """The ``cams`` key of a specimen field's CAM (``photo#0`` = field 1 of role ``photo``)."""
    return f"{role}#{index}"
