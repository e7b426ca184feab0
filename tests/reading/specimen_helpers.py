"""A tiny triage study whose cases are specimens of several fields, and their AI outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from study.aioutput import AIOutput, field_cam_key
from study.protocol import HangingProtocol, Protocol, protocol_to_toml
from study.specimen import FieldScore, aggregate_probabilities, aggregate_scores
from study.store import Store
from tests.aimodel import attach_test_model
from tests.reading.helpers import PIN, READERS, TASKS, StudyFolder, _images

# Per case, the fields' CIN2+ probability (the score): the AI ranks fields by it.
FIELD_SCORES = ((0.2, 0.9, 0.4), (0.1, 0.05, 0.3, 0.6), (0.7, 0.2), (0.3, 0.35, 0.1, 0.05, 0.5))


def make_specimen_study(root: Path, *, design: str = "concurrent", top_k: int = 2, n: int = 4) -> StudyFolder:
    """Cases QS1.. with 2-5 fields: odd cases list their photos with ';', even ones are a folder."""
    root.mkdir(parents=True, exist_ok=True)
    protocol = Protocol(
        study_id="tiny-specimens",
        title="Tiny specimen study",
        design=design,
        seed=11,
        task=TASKS["multiclass"],
        hanging=HangingProtocol(("photo",), "none"),
        washout_days=28 if design == "sequential" else 0,
        groups=("resident", "specialist"),
        mode="triage",
        triage_top_k=top_k,
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    images = _images()
    rows = ["case_id,truth,patient_id,photo"]
    ids, truths, patients = [], {}, {}
    for i in range(n):
        cid = f"QS{101 + i}"
        k = len(FIELD_SCORES[i % len(FIELD_SCORES)])
        folder = root / "media" / cid
        folder.mkdir(parents=True)
        rels = []
        for j in range(k):
            Image.fromarray(images[(i + j) % len(images)]).save(folder / f"field{j + 1}.png")
            rels.append(f"media/{cid}/field{j + 1}.png")
        cell = ";".join(rels) if i % 2 == 0 else f"media/{cid}"
        truths[cid] = ("CIN2+", "normal", "CIN1")[i % 3]
        patients[cid] = f"PAT{700 + i}"
        ids.append(cid)
        rows.append(f"{cid},{truths[cid]},{patients[cid]},{cell}")
    (root / "cases.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    store = Store.open(root)
    try:
        for code, group in READERS:
            store.add_reader(code, group, PIN)
    finally:
        store.close()
    return StudyFolder(root, protocol, ids, truths, patients)


def specimen_output(protocol: Protocol, case_id: str, i: int) -> AIOutput:
    """Field j's CAM is a blob whose row is 2 + 3 j: a test can tell which field's CAM is shown."""
    labels = protocol.task.labels
    fields = []
    cams = {}
    for j, p in enumerate(FIELD_SCORES[i % len(FIELD_SCORES)]):
        probs = ((1 - p) * 0.7, (1 - p) * 0.3, p)
        fields.append(FieldScore(j, p, probs, labels[int(np.argmax(probs))]))
        yy, xx = np.mgrid[0:24, 0:24]
        cams[field_cam_key("photo", j)] = np.exp(-(((yy - 2 - 3 * j) ** 2 + (xx - 12) ** 2) / 20.0))[None].astype(
            np.float16
        )
    probs = aggregate_probabilities(fields, "max")
    cams["photo"] = cams[field_cam_key("photo", 0)]  # what a screen without the gallery shows: field 1
    return AIOutput(
        case_id,
        "m-test",
        "multiclass",
        labels,
        probs,
        predicted=labels[int(np.argmax(probs))],
        score=aggregate_scores([f.score for f in fields], "max"),
        cams=cams,
        fields=tuple(fields),
        aggregate="max",
    )


def put_specimen_ai(folder: StudyFolder) -> dict[str, AIOutput]:
    attach_test_model(folder.path)
    store = Store.open(folder.path)
    outs = {}
    try:
        for i, cid in enumerate(folder.case_ids):
            outs[cid] = specimen_output(folder.protocol, cid, i)
            store.put_ai_output(outs[cid])
    finally:
        store.close()
    return outs


def read_two_specimens(folder: StudyFolder) -> None:
    """r1 reads QS101 and QS102 aided, with a gallery log worked out by hand (see the tests).

    AI picks (top-2 by FIELD_SCORES): QS101 (0.2, 0.9, 0.4) -> {1, 2}; QS102 (0.1, 0.05, 0.3, 0.6)
    -> {3, 2}.  QS101: left once after 4 s on field 1, then read in 8 s over fields 1, 0 with
    decisive 0 (not a pick); QS102: 5 s on field 3, decisive (a pick)."""
    from datetime import UTC, datetime, timedelta

    from study.engine import ReadSubmission, StudyEngine
    from study.specimen import FieldView

    t0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
    engine = StudyEngine.open(folder.path, clock=lambda: t0)
    try:
        rs = engine.start("r1", 1, workstation="ws")
        rs.leave(ReadSubmission("QS101", "", t0, t0, 4000, field_views=(FieldView(1, 1, 4000, False, 1, True),)))
        views1 = (FieldView(1, 1, 2000, False, 1, True), FieldView(2, 0, 6000, True, 3, False))
        rs.submit(ReadSubmission("QS101", "CIN1", t0, t0 + timedelta(seconds=8), 8000, field_views=views1))
        views2 = (FieldView(1, 3, 5000, True, 1, True),)
        rs.submit(ReadSubmission("QS102", "CIN2+", t0, t0 + timedelta(seconds=5), 5000, field_views=views2))
        rs.close()
    finally:
        engine.close()
