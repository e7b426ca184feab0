"""The truth is sealed like the protocol: a changed truth after reads is named and refused by
results until a correction is recorded on purpose (a real SQLite file and real PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from study import truthseal
from study.commands.status import study_status
from study.engine import ReadSubmission, StudyEngine
from study.errors import StudyError
from study.export.cli import export_study
from study.region import Region
from study.store import ai_table, reads_table
from study.store.schema import Meta


def read_cases(study_dir, url, n: int) -> None:
    """Reader r1 answers the first ``n`` cases of session 1 (always "1")."""
    engine = StudyEngine.open(study_dir, url)
    try:
        engine.store.add_reader("r1", "specialist", "1234")
        rs = engine.start("r1", 1)
        for _ in range(n):
            item = rs.next_item()
            now = datetime.now(UTC)
            rs.submit(ReadSubmission(item.case_id, "1", now, now, 4000, confidence=80))
        rs.close()
    finally:
        engine.close()


def swap_truth(study_dir) -> dict[str, tuple[str, str]]:
    """Swap 0 <-> 1 in cases.csv's truth column; returns {case: (old, new)}."""
    path = study_dir / "cases.csv"
    lines = path.read_text().splitlines()
    out, swapped = [lines[0]], {}
    for line in lines[1:]:
        f = line.split(",")
        swapped[f[0]] = (f[1], str(1 - int(f[1])))
        f[1] = swapped[f[0]][1]
        out.append(",".join(f))
    path.write_text("\n".join(out) + "\n")
    return swapped


def audit_actions(engine: StudyEngine, action: str) -> list[dict]:
    return [
        json.loads(r["payload"]) | {"_actor": r["actor"]} for r in engine.store.audit_rows() if r["action"] == action
    ]


def test_swapped_truth_is_named_and_refused_until_corrected(study_dir, db_url, tmp_path):
    read_cases(study_dir, db_url, 3)
    before = reads_table(study_dir, db_url).set_index("case")["truth"]
    assert len(before) == 3
    swapped = swap_truth(study_dir)
    table = str(study_dir.resolve() / "cases.csv")

    engine = StudyEngine.open(study_dir, db_url)  # reading may go on: readers never see the truth
    try:
        audit = study_status(engine)["audit"]
        assert audit["ok"] and audit["truth"]["state"].startswith("CHANGED since sealed ")
        assert table in audit["truth"]["state"]
        got = {c["case_id"]: (c["old"], c["new"]) for c in audit["truth"]["changes"]}
        assert got == swapped and {c["file"] for c in audit["truth"]["changes"]} == {table}
    finally:
        engine.close()

    # Every way to results refuses, naming the file and the cases.
    for results in (
        lambda: reads_table(study_dir, db_url),
        lambda: ai_table(study_dir, db_url),
        lambda: export_study(study_dir, tmp_path / "report", db_url),
    ):
        with pytest.raises(StudyError) as err:
            results()
        (line,) = err.value.problems
        assert line.startswith(f"{table}: the truth table changed since the truth was sealed")
        assert "K000: 0 -> 1; K001: 1 -> 0" in line and "readerstudy truth-correct" in line
    assert not (tmp_path / "report").exists()  # refused before anything was written

    engine = StudyEngine.open(study_dir, db_url)
    try:
        with pytest.raises(StudyError, match="a reason is required"):
            truthseal.correct(engine.store, study_dir, engine.cases, "  ", actor="admin")
        old_sha = engine.truth.sha256
        state = truthseal.correct(engine.store, study_dir, engine.cases, "pathology re-review", actor="admin")
        assert {c.case_id: (c.old, c.new) for c in state.changes} == swapped
        (row,) = audit_actions(engine, "truth.corrected")
        assert row["_actor"] == "admin" and row["reason"] == "pathology re-review"
        assert row["old_sha256"] == old_sha and row["new_sha256"] == state.sha256 != old_sha
        assert len(row["changes"]) == 8
        assert engine.store.verify_chain().ok
    finally:
        engine.close()
    after = reads_table(study_dir, db_url).set_index("case")["truth"]  # the corrected truth is the seal now
    assert after.to_dict() == {cid: int(swapped[cid][1]) for cid in before.index}
    engine = StudyEngine.open(study_dir, db_url)
    try:
        truth = study_status(engine)["audit"]["truth"]
        assert truth["changes"] == [] and truth["corrections"] == 1
    finally:
        engine.close()


def test_truth_changed_or_cases_added_before_any_read_are_resealed(study_dir, make_study, db_url):
    StudyEngine.open(study_dir, db_url).close()
    swap_truth(study_dir)
    make_study(study_dir, n_cases=10, truth=lambda i: 1 - i % 2)  # two cases more, same swapped truth
    engine = StudyEngine.open(study_dir, db_url)
    try:
        assert engine.truth.ok and engine.truth.event == "resealed"
        (cases,) = audit_actions(engine, "cases.changed")
        assert cases["added"] == ["K008", "K009"] and cases["before_any_read"] is True
        (reseal,) = audit_actions(engine, "truth.resealed")
        assert reseal["reason"] == "no case read or opened yet" and len(reseal["changes"]) == 10
        assert audit_actions(engine, "truth.corrected") == []
        # A case opened and left unanswered: the order and crossover blocks are fixed from here on.
        engine.store.add_reader("r1", "specialist", "1234")
        rs = engine.start("r1", 1)
        now = datetime.now(UTC)
        rs.leave(ReadSubmission(rs.next_item().case_id, "", now, now, 2000))
        rs.close()
    finally:
        engine.close()
    swap_truth(study_dir)
    engine = StudyEngine.open(study_dir, db_url)
    try:
        assert len(engine.truth.changes) == 10 and engine.truth.event == ""
    finally:
        engine.close()


def test_a_legacy_store_is_sealed_on_next_open_with_an_audit_note(study_dir, db_url, monkeypatch):
    with monkeypatch.context() as m:  # the store as the code before the truth seal left it
        m.setattr(truthseal, "check", lambda *a: None)
        read_cases(study_dir, db_url, 2)
        engine = StudyEngine.open(study_dir, db_url)
        with engine.store.Session() as s:
            assert s.get(Meta, truthseal.SEAL_KEY) is None
        engine.close()
    engine = StudyEngine.open(study_dir, db_url)
    try:
        assert engine.truth.ok and engine.truth.event == "sealed" and engine.truth.reads_before_seal == 2
        (row,) = audit_actions(engine, "truth.sealed")
        assert row["reads_before_seal"] == 2 and "sealed as found now" in row["note"]
        assert "2 reads were stored before the truth was sealed" in study_status(engine)["audit"]["truth"]["state"]
        assert engine.store.verify_chain().ok
    finally:
        engine.close()
    swap_truth(study_dir)
    with pytest.raises(StudyError, match="the truth table changed since the truth was sealed"):
        reads_table(study_dir, db_url)


def test_a_changed_truth_mask_is_named_by_its_file(tmp_path, db_url):
    from study.regionreads import region_reads
    from tests.regionstudy import write_region_study

    study = write_region_study(tmp_path / "region", n=2, retina=False)
    engine = StudyEngine.open(study.path, db_url)
    try:
        engine.store.add_reader("t1", "resident", "1234")
        rs = engine.start("t1", 1)
        item = rs.next_item()
        now = datetime.now(UTC)
        region = Region(study.truth_masks[item.case_id], (0.02, 0.02))
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 3000, confidence=60, region=region))
        rs.close()
    finally:
        engine.close()
    mask_file = study.path.resolve() / "truth" / "RG102.png"
    bigger = np.asarray(Image.open(mask_file)).copy()
    bigger[:10] = 255
    Image.fromarray(bigger).save(mask_file)
    engine = StudyEngine.open(study.path, db_url)
    try:
        (change,) = engine.truth.changes
        assert change.case_id == "RG102" and change.file == str(mask_file)
        assert change.old.startswith("sha256:") and change.new.startswith("sha256:") and change.old != change.new
    finally:
        engine.close()
    with pytest.raises(StudyError) as err:
        region_reads(study.path, db_url)
    (line,) = err.value.problems
    assert line.startswith(f"{mask_file}: the truth mask changed since the truth was sealed") and "RG102" in line


def test_commands_name_the_changed_truth_and_record_a_correction(study_dir):
    from tests.spine.test_cli import ADMIN, cli

    assert cli("admin-password", study_dir, "--password", ADMIN, password=None).returncode == 0
    read_cases(study_dir, None, 8)  # both truths read: a report can be written
    assert cli("status", study_dir).returncode == 0
    swap_truth(study_dir)
    table = study_dir.resolve() / "cases.csv"

    status = cli("status", study_dir)
    assert status.returncode == 1, status.stderr
    assert "audit chain: OK" in status.stdout
    assert "truth: CHANGED since sealed " in status.stdout and f"{table}: 8 case(s) changed" in status.stdout
    assert "    K000: 0 -> 1\n" in status.stdout and "    K007: 1 -> 0\n" in status.stdout
    report = cli("report", study_dir, "--out", study_dir.parent / "report")
    assert report.returncode == 2 and report.stderr.startswith(f"{table}: the truth table changed")
    assert not (study_dir.parent / "report").exists()

    wrong = cli("truth-correct", study_dir, "--reason", "labels swapped", password="not-the-password")
    assert wrong.returncode == 2 and "Wrong admin password" in wrong.stderr
    assert cli("status", study_dir).returncode == 1  # nothing recorded
    done = cli("truth-correct", study_dir, "--reason", "labels were swapped in the export")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("truth correction recorded in the audit log: 8 case(s)")
    again = cli("truth-correct", study_dir, "--reason", "twice")
    assert again.returncode == 2 and "nothing to correct" in again.stderr
    status = cli("status", study_dir)
    assert status.returncode == 0 and "1 recorded correction(s)" in status.stdout
    assert cli("report", study_dir, "--out", study_dir.parent / "report").returncode == 0
