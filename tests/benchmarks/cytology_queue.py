"""The cytology queue the triage and gallery benchmarks time: the cytology demo (specimens of
2-5 256x256 RGB PNG fields) built in a folder, a reader, and stand-in AI outputs (seeded
3-class probabilities and 32x32 CAMs) so the aided queue is ranked and heat maps are drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PIN = "1234"
READER = "bench0"


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def build_study(root: Path, cases: int, per_field: bool) -> Path:
    """``cases`` specimens in ``root/cytology``; ``per_field``: each field gets its own score and
    CAM and the specimen the maximum (the gallery), else one output per specimen (the queue)."""
    from study.aioutput import AIOutput, field_cam_key
    from study.demo import DEFAULT_SEED, builder
    from study.engine import StudyEngine
    from study.specimen import FieldScore, aggregate_probabilities, aggregate_scores, field_paths
    from study.store import Store

    study = builder("cytology")(root / "cytology", DEFAULT_SEED, cases)
    store = Store.open(study)
    try:
        store.add_reader(READER, "specialist", PIN, actor="bench")
    finally:
        store.close()
    engine = StudyEngine.open(study)
    rng = np.random.default_rng(0)
    labels = engine.protocol.task.labels

    def cam() -> np.ndarray:
        return rng.random((1, 32, 32)).astype(np.float16)

    try:
        for case in engine.cases:
            fields, cams = [], {}
            if per_field:
                for j in range(len(field_paths(case.media["photo"]))):
                    p = rng.dirichlet((1.0, 1.0, 1.0))
                    fields.append(FieldScore(j, float(p[-1]), tuple(float(x) for x in p), labels[int(np.argmax(p))]))
                    cams[field_cam_key("photo", j)] = cam()
                cams["photo"] = cams[field_cam_key("photo", 0)]
                probs = aggregate_probabilities(fields, "max")
                score = aggregate_scores([f.score for f in fields], "max")
            else:
                probs = tuple(float(x) for x in rng.dirichlet((1.0, 1.0, 1.0)))
                score, cams["photo"] = probs[-1], cam()
            engine.store.put_ai_output(
                AIOutput(
                    case.case_id,
                    "bench-placeholder",
                    "multiclass",
                    labels,
                    probs,
                    predicted=labels[int(np.argmax(probs))],
                    score=score,
                    cams=cams,
                    fields=tuple(fields) if per_field else (),
                    aggregate="max" if per_field else "",
                )
            )
    finally:
        engine.close()
    return study
