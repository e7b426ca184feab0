"""`readerstudy report` on a stored study while reading is under way: interim report, every stored column."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from app.cli import main
from study.aioutput import AIOutput
from study.engine import ReadSubmission, StudyEngine
from study.protocol import Task
from study.store.schema import ReadRow
from tests.admin_cli import ENV, PASSWORD, give_admin_password
from tests.aimodel import attach_test_model
from tests.photostudy import write_photo_study


def make_study(root: Path, n: int = 24) -> Path:
    return write_photo_study(
        root,
        n_cases=n,
        seed=3,
        task=Task("binary", labels=("benign", "malignant")),
        name="interim",
        title="Interim check of the photo study",
        case_id=lambda i: f"c{i}",
        truth=lambda i: int(i % 2 == 0),
        patient_id=lambda i: f"p{i}",
    )


def read_some(study: Path, ai_threshold: float | None = None) -> None:
    """s1, s2 finished both sessions; r1 finished unaided and read 4 aided cases; r2 is half-way unaided.

    ``ai_threshold``: the AI's stored operating point (chosen by "youden"); None: none stored (0.5)."""
    now = [datetime(2026, 1, 5, 8, tzinfo=UTC)]
    attach_test_model(study)
    engine = StudyEngine.open(study, clock=lambda: now[0])
    rng = np.random.default_rng(0)
    truth = {c.case_id: int(c.truth) for c in engine.cases}
    for c in engine.cases:  # an AI whose score is on 0-1 with its own 0.5 operating point
        p = 0.8 if truth[c.case_id] else 0.3
        engine.store.put_ai_output(
            AIOutput(
                c.case_id,
                "m1",
                "binary",
                ("benign", "malignant"),
                (1 - p, p),
                predicted="malignant" if p >= (ai_threshold or 0.5) else "benign",
                score=p,
                threshold=ai_threshold,
                threshold_rule="youden" if ai_threshold is not None else "",
                positive=("malignant",) if ai_threshold is not None else (),
            )
        )
    plan = {"s1": (None, None), "s2": (None, None), "r1": (None, 4), "r2": (12, 0)}
    for code in plan:
        engine.store.add_reader(code, "specialist" if code[0] == "s" else "resident", "1234")
    for index in (1, 2):
        for code, limits in plan.items():
            limit = limits[index - 1]
            if limit == 0:
                continue
            rs = engine.start(code, index)
            k = 0
            while (item := rs.next_item()) is not None and (limit is None or k < limit):
                right = rng.random() < 0.8
                answer = truth[item.case_id] if right else 1 - truth[item.case_id]
                secs = 1.0 if k == 0 else 20.0  # one implausibly fast read each
                t = now[0]
                if code == "s1" and index == 1 and k == 0:  # looked at, left, finished later: two sittings
                    rs.leave(ReadSubmission(item.case_id, "", t, t + timedelta(seconds=5), 5000))
                rs.submit(
                    ReadSubmission(
                        item.case_id,
                        str(answer),
                        t,
                        t + timedelta(seconds=secs),
                        int(secs * 1000),
                        confidence=float(np.clip(50 + (30 if answer else -30) + rng.normal(0, 15), 0, 100)),
                    )
                )
                k += 1
            rs.close()
        now[0] += timedelta(days=29)
    engine.close()


def test_interim_report_of_a_stored_study(tmp_path, capsys, monkeypatch):
    study = make_study(tmp_path / "study")
    read_some(study)
    give_admin_password(study)  # `report` is an admin command
    monkeypatch.setenv(ENV, PASSWORD)
    out = tmp_path / "out"
    assert main(["report", str(study), "--out", str(out)]) == 0, capsys.readouterr().err
    res = json.loads((out / "results.json").read_text())
    assert res["progress"]["interim"] and "r2 (aided)" in res["progress"]["not_started"]
    assert "r2 (unaided)" in res["progress"]["unfinished"] and "r1 (aided)" in res["progress"]["unfinished"]
    auc = res["mrmc"]["auc"]
    assert auc["n_readers"] == 2 and {x["reader"] for x in auc["left_out"]} == {"r1", "r2"}
    assert res["thresholds"]["readers"]["source"] == "own yes/no answers"
    assert res["thresholds"]["AI"]["source"] == "the model's own decision"
    ai = next(r for r in res["readers"] if r["reader"] == "AI")
    assert ai["sensitivity"] == 1.0 and ai["specificity"] == 1.0
    assert res["groups_order"] == ["specialist", "resident", "AI"]
    qc = {r["reader"]: r for r in res["reading_time"]["readers"]}
    assert all(r["n_fast"] >= 1 for r in qc.values())
    reads = pd.read_csv(out / "reads.csv")
    # Every stored column of a read (whatever migrations added: the consistency check, ...) and
    # the count of its sittings (the sittings table points at reads).
    # The region mask's PNG bytes are written as its pixel count and area.
    stored = {c.name for c in ReadRow.__table__.columns} - {"id", "region_mask"}
    readable = {"read_id", "reader", "group", "truth", "current", "consistency", "sittings", "region_pixels"}
    assert stored | readable | {"region_area_mm2"} <= set(reads.columns) and "region_mask" not in reads.columns
    first = reads.set_index("read_id").loc[1]
    assert (first["sittings"], first["sitting_seconds"], first["active_ms"]) == (2, "5.0;1.0", 6000)
    assert set(reads["sittings"][1:]) == {1}
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"Interim check of the photo study" in pdf


def test_report_carries_the_ai_operating_point_it_used(tmp_path, capsys, monkeypatch):
    """The AI's stored threshold (0.25: every case is called malignant) is the one the report uses and prints."""
    study = make_study(tmp_path / "study")
    read_some(study, ai_threshold=0.25)
    give_admin_password(study)
    monkeypatch.setenv(ENV, PASSWORD)
    out = tmp_path / "out"
    assert main(["report", str(study), "--out", str(out)]) == 0, capsys.readouterr().err
    res = json.loads((out / "results.json").read_text())
    assert res["thresholds"]["AI"] == {"value": 0.25, "source": "the model's operating point, youden"}
    ai = next(r for r in res["readers"] if r["reader"] == "AI")
    assert ai["sensitivity"] == 1.0 and ai["specificity"] == 0.0  # 0.3 >= 0.25: negatives called malignant
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "AI operating point" in text
    assert "score >= 0.25 calls malignant (the model's operating point, youden)" in " ".join(text.split())
    assert res["study"]["ai"]["operating_point"] == {**res["thresholds"]["AI"], "positive": ["malignant"]}
