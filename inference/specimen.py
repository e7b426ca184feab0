"""Predict a specimen: every field through the model, then the aggregation of the spec.

The specimen's output is one ``AIOutput``: its ``probabilities``/``score``/``predicted``
aggregate the fields (``ModelSpec.aggregate``: "max", as a slide's class is its worst
field in the source cytology study: P(specimen >= class) is the largest field's
P(field >= class), see ``study.specimen.aggregate_probabilities``; "mean" averages
the fields' probabilities), ``fields`` holds every field's own output and ``cams``
holds each field's CAM under ``field_cam_key(role, i)`` plus field 1's CAM under
``role``: a screen without a gallery shows the role's first field (``study.specimen``),
so image and CAM always belong together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from inference.load import LoadedModel
from inference.predict import predict
from study.aioutput import AIOutput, field_cam_key
from study.media.types import Media, MediaError
from study.specimen import FieldScore, aggregate_probabilities, aggregate_scores, ranked


def predict_specimen(
    model: LoadedModel, fields_by_role: Mapping[str, Sequence[Media]], *, case_id: str = "", cams: bool = True
) -> AIOutput:
    """One output for a specimen of several fields (one model role only).

    Raises ValueError when the model reads more than one role (a specimen is one
    role's fields) or a field gives a non-finite output, MediaError when the role
    has no fields."""
    spec = model.spec
    if len(spec.roles) != 1:
        raise ValueError(f"a specimen is scored by a one-role model; this model reads {', '.join(spec.roles)}")
    role = spec.roles[0]
    fields = list(fields_by_role.get(role, ()))
    if not fields:
        raise MediaError(case_id or "case", f"no fields for role {role!r}")
    outs = [predict(model, {role: media}, case_id=case_id, cams=cams) for media in fields]
    scores = tuple(
        FieldScore(i, float(o.score), tuple(float(p) for p in o.probabilities), o.predicted) for i, o in enumerate(outs)
    )
    probs = aggregate_probabilities(scores, spec.aggregate)
    score = aggregate_scores([f.score for f in scores], spec.aggregate)
    top = ranked(scores)[0]
    predicted = spec.labels[int(np.argmax(probs))] if probs else outs[top.index].predicted
    field_cams: dict[str, np.ndarray] = {}
    for i, o in enumerate(outs):
        if role in o.cams:
            field_cams[field_cam_key(role, i)] = o.cams[role][:1]
    if role in outs[0].cams:
        field_cams[role] = outs[0].cams[role][:1]
    return replace(
        outs[top.index],
        probabilities=probs,
        score=score,
        predicted=predicted,
        cams=field_cams,
        fields=scores,
        aggregate=spec.aggregate,
    )
