"""Region answers through the engine and the store (SQLite file and PostgreSQL): the mask
round-trips, the editing record is kept, reads.csv carries the area, the audit chain seals it
and catches an edited mask, and masks come out as PNGs."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import update

from study.engine import ReadSubmission, StudyEngine
from study.errors import StudyError
from study.region import Region, encode_mask
from study.regionreads import region_reads, write_masks
from study.store.schema import ReadRow
from study.store.tables import reads_frame
from tests.regionstudy import SPACING_MM, write_region_study


@pytest.fixture
def region_study(tmp_path):
    return write_region_study(tmp_path / "study", n=2, retina=False)


def _open(study, db_url, clock) -> StudyEngine:
    engine = StudyEngine.open(study.path, db_url, clock=clock)
    known = {r.code for r in engine.store.readers()}
    for code, group in (("r1", "resident"), ("r2", "specialist")):
        if code not in known:  # a fresh PostgreSQL store
            engine.store.add_reader(code, group, "2468")
    return engine


def _read(rs, item, mask, **kw):
    now = rs.engine.clock()
    return ReadSubmission(
        item.case_id,
        kw.pop("answer", "1"),
        now - timedelta(seconds=5),
        now,
        5000,
        confidence=kw.pop("confidence", 80.0),
        region=Region(mask, (SPACING_MM, SPACING_MM)),
        **kw,
    )


def test_region_answer_round_trips(region_study, db_url, clock):
    engine = _open(region_study, db_url, clock)
    try:
        rs = engine.start("r1", 1)
        drawn = {}
        rng = np.random.default_rng(3)
        while (item := rs.next_item()) is not None:
            mask = rng.random(region_study.shapes[item.case_id]) > 0.7
            drawn[item.case_id] = mask
            rs.submit(_read(rs, item, mask, edit_ms=1234, edit_count=3, accepted_unchanged=True))
        rs.close()
    finally:
        engine.close()
    reads = region_reads(region_study.path, db_url)
    assert {r.case_id for r in reads} == set(drawn)
    for r in reads:
        assert r.mask.dtype == bool and np.array_equal(r.mask, drawn[r.case_id])
        assert r.spacing_mm == (SPACING_MM, SPACING_MM) and r.likelihood == 80.0
        # an unaided read never records "accepted unchanged", whatever the screen sent
        assert (r.mode, r.accepted_unchanged, r.edit_ms, r.edit_count) == ("unaided", None, 1234, 3)
    frame = reads_frame(region_study.path, db_url)
    row = frame.set_index("case").loc[reads[0].case_id]
    assert row["region_pixels"] == drawn[reads[0].case_id].sum()
    assert row["region_area_mm2"] == pytest.approx(drawn[reads[0].case_id].sum() * SPACING_MM**2)
    assert row["edit_count"] == 3 and row["decision"] == 1 and row["rating"] == 80.0


def test_region_read_is_sealed_and_an_edited_mask_is_caught(region_study, db_url, clock):
    engine = _open(region_study, db_url, clock)
    try:
        rs = engine.start("r1", 1)
        item = rs.next_item()
        mask = region_study.truth_masks[item.case_id]
        read_id = rs.submit(_read(rs, item, mask))
        rs.close()
        assert engine.store.verify_chain().ok
        other = np.zeros_like(mask)
        other[:4, :4] = True
        with engine.store.Session() as s, s.begin():  # behind the app's back
            s.execute(update(ReadRow).where(ReadRow.id == read_id).values(region_mask=encode_mask(other)))
        check = engine.store.verify_chain()
        assert not check.ok
    finally:
        engine.close()
    with pytest.raises(StudyError, match="AUDIT CHAIN BROKEN"):
        region_reads(region_study.path, db_url)


def test_bad_region_answers_are_refused(region_study, clock):
    engine = StudyEngine.open(region_study.path, clock=clock)
    try:
        rs = engine.start("r1", 1)
        item = rs.next_item()
        empty = np.zeros(region_study.shapes[item.case_id], bool)
        with pytest.raises(StudyError, match="optic disc region is empty"):
            rs.submit(_read(rs, item, empty))
        full = ~empty
        with pytest.raises(StudyError, match="likelihood 140.0 is outside 0..100"):
            rs.submit(_read(rs, item, full, confidence=140.0))
        with pytest.raises(StudyError, match="needs a region"):
            now = clock()
            rs.submit(ReadSubmission(item.case_id, "1", now, now, 10, confidence=50.0))
        rs.close()
    finally:
        engine.close()


def test_masks_export_as_png(region_study, tmp_path, clock):
    engine = StudyEngine.open(region_study.path, clock=clock)
    try:
        rs = engine.start("r2", 1)
        while (item := rs.next_item()) is not None:
            rs.submit(_read(rs, item, region_study.truth_masks[item.case_id]))
        rs.close()
    finally:
        engine.close()
    index = write_masks(region_reads(region_study.path), tmp_path / "masks")
    lines = index.read_text().splitlines()
    assert len(lines) == 1 + len(region_study.case_ids)
    first = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    png = np.asarray(Image.open(tmp_path / "masks" / first["file"])) > 0
    assert np.array_equal(png, region_study.truth_masks[first["case"]])
    assert float(first["area_mm2"]) == pytest.approx(png.sum() * SPACING_MM**2, rel=1e-4)


def test_protocol_problems_name_the_key(tmp_path):
    from study.protocol import parse_protocol

    base = {
        "study": {"id": "x", "design": "concurrent", "seed": 1},
        "hanging": {"roles": ["photo"]},
    }
    with pytest.raises(StudyError) as err:
        parse_protocol({**base, "task": {"kind": "region", "labels": ["a", "b"], "spacing_mm": -1, "unit": "mm"}})
    text = "\n".join(err.value.problems)
    assert 'task.labels: belongs to a combined question: set also = "binary"' in text
    assert "task.spacing_mm: must be a pixel spacing in mm above 0" in text
    assert "task.unit: a region task does not take this key" in text
    with pytest.raises(StudyError, match="task.region: only a region task"):
        parse_protocol({**base, "task": {"kind": "binary", "region": "FAZ"}})
    with pytest.raises(StudyError, match="task.role: 'octa' is not one of hanging.roles"):
        parse_protocol({**base, "task": {"kind": "region", "role": "octa"}})
    p = parse_protocol({**base, "task": {"kind": "region", "region": "FAZ", "also": "binary", "labels": ["n", "g"]}})
    assert (p.task.region, p.task.has_likelihood, p.region_role, p.task.labels) == ("FAZ", True, "photo", ("n", "g"))
    assert json.dumps(p.task.spacing_mm) == "null"


def test_export_masks_command_needs_the_admin_password(region_study, tmp_path, clock, capsys):
    from app.cli import main

    engine = StudyEngine.open(region_study.path, clock=clock)
    try:
        engine.store.set_admin_password("admin-pw-1")
        rs = engine.start("r1", 1)
        item = rs.next_item()
        rs.submit(_read(rs, item, region_study.truth_masks[item.case_id]))
        rs.close()
    finally:
        engine.close()
    wrong, right = tmp_path / "wrong.txt", tmp_path / "right.txt"
    wrong.write_text("nope\n")
    right.write_text("admin-pw-1\n")
    out = tmp_path / "masks"
    assert main(["export-masks", str(region_study.path), "--out", str(out), "--admin-password-file", str(wrong)]) == 2
    assert not out.exists()
    assert main(["export-masks", str(region_study.path), "--out", str(out), "--admin-password-file", str(right)]) == 0
    assert "1 region masks written" in capsys.readouterr().out
    assert (out / "masks.csv").is_file() and len(list(out.glob("*.png"))) == 1
