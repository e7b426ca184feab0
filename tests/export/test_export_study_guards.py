"""A report calls a study complete only when every enrolled reader has read every planned session.

Readers enrolled who never signed in, and sessions nobody opened, leave no reads: the reads
table alone cannot see them, so every report kind asks ``study.progress`` (enrolled readers x
the protocol's sessions) and says "interim" with the planned and done reads."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scipy import ndimage

from study.aioutput import AIOutput
from study.demo.cytology import build_cytology
from study.engine import StudyEngine
from study.export.region_report import write_region_report
from study.progress import reading_progress
from study.protocol import Task
from study.region import RegionRead
from tests.admin_cli import admin_env
from tests.photostudy import write_photo_study
from tests.reads import read_session
from tests.regionstudy import write_region_study


def _read(study: Path, readers: dict[str, int], answer_for, ai=None) -> None:
    """Enrol ``readers`` (code -> cases to read in session 1); read no other session.
    ``ai(case)``: the AI output stored for each case first (aided sessions wait for them)."""
    engine = StudyEngine.open(study, clock=lambda: datetime.now(UTC))
    try:
        for case in engine.cases if ai else ():
            engine.store.put_ai_output(ai(case))
        for code in readers:
            engine.store.add_reader(code, "specialist", "1234")
        for code, limit in readers.items():
            if limit == 0:
                continue
            rs = engine.start(code, 1)
            assert read_session(rs, lambda case_id: answer_for(engine.case(case_id)), limit) == limit
            rs.close()
    finally:
        engine.close()


def _report(study: Path, out: Path) -> tuple[dict, str]:
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "report", str(study), "--out", str(out)],
        capture_output=True,
        text=True,
        env=admin_env(study),
    )
    assert r.returncode == 0, r.stderr
    name = "region_results.json" if (out / "region_results.json").exists() else "results.json"
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    )
    return json.loads((out / name).read_text()), " ".join(pdf.stdout.split())


def test_reading_progress_counts_every_planned_session():
    progress = reading_progress([("r1", "unaided", 12, 12), ("r1", "aided", 0, 12), ("r2", "unaided", 3, 12)])
    assert (progress.done, progress.planned, progress.interim) == (15, 36, True)
    assert progress.not_started == ["r1 (aided)"] and progress.unfinished == ["r2 (unaided)"]
    assert progress.text() == "15 of 36 planned reads (41 %)"
    assert not reading_progress([("r1", "aided", 12, 12)]).interim
    assert reading_progress([]).interim  # no reader enrolled: nothing is complete
    with pytest.raises(ValueError, match="r1 \\(aided\\)"):
        reading_progress([("r1", "aided", -1, 12)])


def test_binary_report_of_one_finished_session_is_interim(tmp_path):
    """One reader's unaided session fully read (12 of 72), two more readers enrolled who never signed in:
    the reads table looks complete (every reader in it read every case in every mode in it)."""
    study = write_photo_study(
        tmp_path / "study", n_cases=12, task=Task("binary", labels=("benign", "malignant")), title="Progress"
    )
    _read(study, {"r1": 12, "r2": 0, "r3": 0}, lambda c: {"answer": str(c.truth), "confidence": 70.0})
    result, text = _report(study, tmp_path / "out")
    prog = result["progress"]
    assert prog["interim"] is True and (prog["done"], prog["planned"]) == (12, 72)
    assert prog["not_started"] == ["r1 (aided)", "r2 (unaided)", "r2 (aided)", "r3 (unaided)", "r3 (aided)"]
    assert "Interim: 12 of 72 planned reads (16 %)." in result["notes"]
    assert "Status INTERIM: reading still under way, 12 of 72 planned reads done" in text
    assert "complete" not in text.split("Reader study report")[0]
    assert "r2 0 of 12 0 of 12" in text  # the progress table lists the readers who never signed in


def test_multiclass_report_of_a_part_read_study_is_interim(tmp_path):
    """The cytology demo (concurrent: one aided session): one reader, 2 of 12 specimens read."""
    study = build_cytology(tmp_path / "cyto", seed=3, n=12)
    labels = ("normal", "CIN1", "CIN2+")
    ai = lambda c: AIOutput(c.case_id, "m", "multiclass", labels, (0.1, 0.1, 0.8), predicted=c.truth, score=0.8)
    _read(study, {"cyto1": 2}, lambda c: {"answer": c.truth}, ai=ai)
    result, text = _report(study, tmp_path / "out")
    prog = result["progress"]
    assert prog["interim"] is True and (prog["done"], prog["planned"]) == (2, 12)
    assert prog["unfinished"] == ["cyto1 (aided)"] and prog["not_started"] == []
    assert "Interim: 2 of 12 planned reads (16 %)." in result["notes"]
    assert "INTERIM REPORT: reading still under way, 2 of 12 planned reads (16 %)" in text


def test_report_refuses_a_threshold_outside_the_protocol_scale(tmp_path, capsys):
    """`readerstudy report --threshold 500` on a 0-100 confidence scale gave every reader sensitivity 0."""
    study = write_photo_study(tmp_path / "study", n_cases=4, task=Task("binary", labels=("benign", "malignant")))
    _read(study, {"r1": 4}, lambda c: {"answer": str(c.truth), "confidence": 70.0})
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "report", str(study), "--out", str(tmp_path / "out"), "--threshold", "500"],
        capture_output=True,
        text=True,
        env=admin_env(study),
    )
    assert r.returncode == 2 and "threshold 500 is outside the readers' 0-100 rating scale (the protocol's)" in r.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_region_report_prints_no_interval_for_two_values(tmp_path):
    """Dice 0.312 ± 0.388 [-3.178, 3.803] on n=2: now 'n too small', and bounded intervals from n=3."""
    study = write_region_study(tmp_path / "photos", n=3, retina=False)
    ids = sorted(study.truth_masks)
    reads = [
        RegionRead(
            "r1",
            "g",
            1,
            "unaided",
            c,
            ndimage.binary_erosion(study.truth_masks[c], iterations=1 + 6 * k),
            (0.1, 0.1),
            None,
            0,
            0,
            None,
        )  # fmt: skip
        for k, c in enumerate(ids)
    ]
    paths = write_region_report(reads[:2], study.truth_masks, tmp_path / "two")
    text = " ".join(
        subprocess.run(["pdftotext", str(paths["report.pdf"]), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "[n too small]" in text and "-" + "3." not in text
    res = json.loads(paths["region_results.json"].read_text())
    assert res["readers"][0]["dice"]["ci_method"] == "n too small"
    paths = write_region_report(reads, study.truth_masks, tmp_path / "three")
    dice = json.loads(paths["region_results.json"].read_text())["readers"][0]["dice"]
    assert 0 <= dice["ci_low"] <= dice["ci_high"] <= 1 and dice["ci_method"].startswith("percentile bootstrap")
    text = " ".join(
        subprocess.run(["pdftotext", str(paths["report.pdf"]), "-"], capture_output=True, text=True).stdout.split()
    )
    assert f"seed {dice['ci_seed']}" in text
