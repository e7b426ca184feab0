"""The store on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, select, text, update

from study.aioutput import AIOutput
from study.engine import ReadSubmission, StudyEngine
from study.errors import StudyError
from study.security import verify_secret
from study.store import Store
from study.store.schema import AuditRow, ReaderRow, ReadRow


def _read_all(engine: StudyEngine, reader: str, index: int, answer: str = "1") -> None:
    rs = engine.start(reader, index)
    while (item := rs.next_item()) is not None:
        now = engine.clock()
        rs.submit(ReadSubmission(item.case_id, answer, now, now, 1500, confidence=80))
    rs.close()


def test_sqlite_store_is_wal_with_foreign_keys(study_dir):
    store = Store.open(study_dir)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()
    assert (study_dir / "readerstudy.sqlite").is_file()


def test_readers_pins_are_scrypt_hashed(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    store.add_reader("rad1", "specialist", "4821")
    with pytest.raises(StudyError, match="reader rad1: already exists"):
        store.add_reader("rad1", "resident", "9999")
    with pytest.raises(StudyError, match="PIN must have at least 4"):
        store.add_reader("rad2", "resident", "12")
    with store.Session() as s:
        row = s.execute(select(ReaderRow)).scalar_one()
    assert row.pin_hash.startswith("scrypt$") and "4821" not in row.pin_hash
    assert verify_secret("4821", row.pin_hash) and not verify_secret("4822", row.pin_hash)
    assert [r.code for r in store.readers()] == ["rad1"]
    store.close()


def test_segmentation_output_round_trips_mask_probabilities_and_measurements(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    mask = np.zeros((1, 30, 30), np.float32)
    mask[0, 10:20, 8:22] = 0.97
    out = AIOutput(
        "K002",
        "sha-seg",
        "segmentation",
        ("background", "FAZ"),
        (0.84, 0.16),
        score=0.71,
        cams={"octa": mask},
        cam_method="segmentation",
        measurements={"faz_area_mm2": 0.3125, "faz_circularity": 0.875, "glaucoma_score": 0.71},
    )
    store.put_ai_output(out)
    got = store.ai_output("K002")
    assert got == out and got.cam_method == "segmentation"
    assert got.measurements == {"faz_area_mm2": 0.3125, "faz_circularity": 0.875, "glaucoma_score": 0.71}
    np.testing.assert_allclose(got.cams["octa"], mask, atol=1e-3)
    store.close()


def test_ai_output_round_trip_keeps_cams_as_float16(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    cam = np.linspace(0, 1, 3 * 8 * 8, dtype=np.float32).reshape(3, 8, 8)
    out = AIOutput(
        "K001",
        "sha-abc",
        "binary",
        ("absent", "present"),
        (0.2, 0.8),
        predicted="present",
        score=0.8,
        cams={"photo": cam},
        cam_method="gradcam",
        versions={"torch": "2.14.1"},
        cam_target="present",  # the class the heat explains: the screen scales the heat by its score
    )
    store.put_ai_output(out)
    got = store.ai_output("K001")
    assert got == out and got.cam_target == "present"  # cams and versions are compared below
    assert got.cams["photo"].dtype == np.float16
    np.testing.assert_allclose(got.cams["photo"], cam, atol=1e-3)
    assert got.versions == {"torch": "2.14.1"}
    assert store.ai_output_case_ids("sha-abc") == {"K001"}
    # Re-running precompute replaces, never duplicates.
    store.put_ai_output(AIOutput("K001", "sha-abc", "binary", ("absent", "present"), (0.6, 0.4), score=0.4))
    assert store.ai_output("K001").score == pytest.approx(0.4)
    assert list(store.ai_outputs()) == ["K001"] and store.ai_outputs()["K001"].cams == {}
    store.close()


def test_ai_operating_point_round_trips_and_sets_the_ai_decision(study_dir, db_url):
    """A model's stored threshold (model.toml) travels with its output; the statistics' AI decision uses it."""
    from study.store.tables import ai_frame

    store = Store.open(study_dir, db_url)
    labels, probs = ("absent", "present"), (0.65, 0.35)
    out = AIOutput(
        "K001", "sha-abc", "binary", labels, probs, predicted="present", score=0.35, threshold=0.3,
        threshold_rule="youden", positive=("present",),
    )  # fmt: skip
    store.put_ai_output(out)
    back = store.ai_output("K001")
    assert (back.threshold, back.threshold_rule, back.positive) == (0.3, "youden", ("present",))
    store.put_ai_output(AIOutput("K002", "sha-abc", "binary", ("absent", "present"), (0.65, 0.35), score=0.35))
    store.close()
    frame = ai_frame(study_dir, db_url).set_index("case")
    assert frame.loc["K001", "ai_decision"] == 1  # 0.35 >= the model's 0.3
    assert frame.loc["K002", "ai_decision"] == 0  # no operating point stored: 0.5
    assert (frame.loc["K001", "ai_threshold"], frame.loc["K001", "ai_threshold_rule"]) == (0.3, "youden")
    assert pd.isna(frame.loc["K002", "ai_threshold"])  # none stored, none named


def test_audit_chain_detects_edited_and_deleted_rows(study_dir, db_url, clock):
    engine = StudyEngine.open(study_dir, db_url, clock=clock)
    engine.store.add_reader("r1", "specialist", "1234")
    _read_all(engine, "r1", 1)
    store = engine.store
    check = store.verify_chain()
    # store baseline + study facts + truth seal + reader + 8 reads
    assert check.ok and check.rows == 4 + 8, check

    # An edited read (answer flipped in the database behind the app's back).
    with store.transaction() as s:
        s.execute(update(ReadRow).where(ReadRow.id == 3).values(answer="0"))
    check = store.verify_chain()
    assert not check.ok and check.reason == "read 3 was edited after submission"
    with store.transaction() as s:
        s.execute(update(ReadRow).where(ReadRow.id == 3).values(answer="1"))
    assert store.verify_chain().ok

    # An edited audit row.
    with store.transaction() as s:
        s.execute(update(AuditRow).where(AuditRow.id == 6).values(actor="someone-else"))
    check = store.verify_chain()
    assert (check.ok, check.first_broken, check.reason) == (False, 6, "row content was edited")
    with store.transaction() as s:
        s.execute(update(AuditRow).where(AuditRow.id == 6).values(actor="r1"))
    assert store.verify_chain().ok

    # A deleted read and its audit row: the gap in the chain is found.
    with store.transaction() as s:
        payload = json.loads(s.execute(select(AuditRow.payload).where(AuditRow.id == 7)).scalar_one())
        s.execute(delete(AuditRow).where(AuditRow.id == 7))
        s.execute(delete(ReadRow).where(ReadRow.id == payload["read_id"]))
    check = store.verify_chain()
    assert (check.ok, check.first_broken) == (False, 7)
    assert check.reason == "row 7 is missing (next is 8)"
    engine.close()


def test_deleting_the_last_rows_is_detected(study_dir, clock):
    engine = StudyEngine.open(study_dir, clock=clock)
    engine.store.add_reader("r1", "specialist", "1234")
    _read_all(engine, "r1", 1)
    with engine.store.transaction() as s:
        last = s.execute(select(AuditRow).order_by(AuditRow.id.desc()).limit(1)).scalar_one()
        read_id = json.loads(last.payload)["read_id"]
        s.delete(last)
        s.execute(delete(ReadRow).where(ReadRow.id == read_id))
    check = engine.store.verify_chain()
    assert not check.ok and "deleted" in check.reason
    engine.close()


def test_unreachable_database_is_a_clear_error(study_dir):
    with pytest.raises(StudyError) as info:
        Store.open(study_dir, "postgresql+psycopg://127.0.0.1:1/nothing?connect_timeout=2")
    assert info.value.problems[0].startswith(
        "postgresql+psycopg://127.0.0.1:1/nothing?connect_timeout=2: cannot open the study store: OperationalError"
    )


def test_admin_password_is_hashed_and_checked(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    assert not store.has_admin_password() and not store.check_admin_password("anything")
    with pytest.raises(StudyError, match="at least 6 characters"):
        store.set_admin_password("abc")
    store.set_admin_password("s3cret-pw")
    assert store.has_admin_password()
    assert store.check_admin_password("s3cret-pw") and not store.check_admin_password("s3cret-pX")
    assert store.verify_chain().ok
    store.close()
