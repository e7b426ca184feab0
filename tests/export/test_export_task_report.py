"""`readerstudy report` on the non-binary demo studies: reads submitted through
the engine come out as the task's own metrics, with the AI as a reader."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from study.aioutput import AIOutput
from study.demo.conjunctiva import build_conjunctiva
from study.demo.cytology import build_cytology
from study.demo.motility import build_motility
from study.engine import ReadSubmission, StudyEngine
from study.stats.multiclass import multiclass_metrics
from tests.admin_cli import admin_env
from tests.aimodel import aided_reads_without_ai
from tests.reads import read_session


def _read_everything(study, answer_for, ai=None):
    """Every session of reader cyto1; ``ai(case)``: the AI output stored first (None: none, the
    aided reads then written as older versions did, without it)."""
    engine = StudyEngine.open(study, clock=lambda: datetime.now(UTC))
    for case in engine.cases if ai else ():
        engine.store.put_ai_output(ai(case))
    with contextlib.nullcontext() if ai else aided_reads_without_ai():
        return _read_all(engine, answer_for)


def _read_all(engine, answer_for):
    engine.store.add_reader("cyto1", "specialist", "1234")
    for info in engine.sessions("cyto1"):
        rs = engine.start("cyto1", info.index)
        read_session(rs, lambda case_id: answer_for(engine.case(case_id)))
        rs.close()
    return engine


def _report(study, out, warned: bool = False):
    """``warned``: the store holds aided reads made without an AI output (WARNINGS.txt, and on stderr)."""
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "report", str(study), "--out", str(out)],
        capture_output=True,
        text=True,
        env=admin_env(study),
    )
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} == {
        "reads.csv",
        "metrics.csv",
        "metrics.xlsx",
        "results.json",
        "report.pdf",
        "AUDIT_ANCHOR.txt",
        *(("WARNINGS.txt",) if warned else ()),
    }
    if warned:
        assert "WARNING: " in r.stderr and "unaided reads recorded as aided" in r.stderr
        assert "aided read(s) of" in (out / "WARNINGS.txt").read_text(encoding="utf-8")
    else:
        assert "WARNING" not in r.stderr
    return json.loads((out / "results.json").read_text()), pd.read_csv(out / "metrics.csv")


def test_multiclass_report_with_collapse_and_ai(tmp_path):
    study = build_cytology(tmp_path / "cyto", seed=3, n=12)
    labels = ["normal", "CIN1", "CIN2+"]
    engine = _read_everything(
        study,
        lambda c: {"answer": c.truth if c.case_id[-1] in "02468" else "normal"},
        ai=lambda c: AIOutput(
            c.case_id,
            "m",
            "multiclass",
            tuple(labels),
            (0.1, 0.1, 0.8),
            predicted=c.truth,
            score=0.8,
            threshold=0.376,
            threshold_rule="youden",
            positive=("CIN2+",),
        ),  # fmt: skip
    )
    truth = {c.case_id: c.truth for c in engine.cases}
    engine.close()
    result, metrics = _report(study, tmp_path / "out")
    reader = next(r for r in result["readers"] if r["reader"] == "cyto1")
    answers = [t if cid[-1] in "02468" else "normal" for cid, t in truth.items()]
    expected = multiclass_metrics(np.array(list(truth.values())), np.array(answers), labels, ["CIN2+"])
    assert reader["accuracy"] == pytest.approx(expected["accuracy"])
    assert reader["binary_collapse"]["sensitivity"] == pytest.approx(expected["binary_collapse"]["sensitivity"])
    ai = next(r for r in result["readers"] if r["reader"] == "AI")
    assert ai["accuracy"] == 1.0 and set(metrics["reader"]) == {"cyto1", "AI"}
    assert "CIN2+_sensitivity" in metrics.columns and "collapse_specificity" in metrics.columns
    # The operating point the AI's calls follow, in results.json and under the PDF's heading.
    point = {"value": 0.376, "source": "the model's operating point, youden", "positive": ["CIN2+"]}
    assert result["thresholds"]["AI"] == point
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "report.pdf"), "-"], capture_output=True, text=True)
    assert "AI's call: CIN2+ when its score >= 0.376 (the model's operating point, youden)" in text.stdout


def test_numeric_and_grade_reports(tmp_path):
    conj = build_conjunctiva(tmp_path / "conj", seed=3, n=12)
    _read_everything(conj, lambda c: {"answer": "x", "value": round(float(c.truth) + 1.0, 1)}).close()
    # read as older versions allowed: "aided" with no AI output stored; the report says so
    result, metrics = _report(conj, tmp_path / "out-conj", warned=True)
    assert metrics.loc[0, "mae"] == pytest.approx(1.0, abs=0.06)  # every read 1 g/dL high (truth rounded)
    assert metrics.loc[0, "bland_altman_bias"] == pytest.approx(1.0, abs=0.06)

    mot = build_motility(tmp_path / "mot", seed=3, n=10)
    grades = ["A", "B", "C", "D", "E"]

    def top_grade(case):
        probs = [float(p) for p in case.truth.split(";")]
        return {"answer": grades[int(np.argmax(probs))]}

    _read_everything(mot, top_grade).close()
    result, metrics = _report(mot, tmp_path / "out-mot", warned=True)
    assert set(metrics["modality"]) == {"unaided", "aided"}  # crossover: both modes
    assert {"emd", "average_grade_distance", "precision_at_1", "precision_at_2"} <= set(metrics.columns)
    assert (metrics["precision_at_1"] == 1.0).all()  # the reader always named the raters' top grade
    assert all(r["reader"] == "cyto1" for r in result["readers"])


def test_reads_csv_holds_every_read_version_of_a_corrected_slide(tmp_path):
    """A slide answered CIN2+ then corrected to CIN1: reads.csv has both versions; the metrics the current one."""
    study = build_cytology(tmp_path / "cyto", seed=3, n=12)
    engine = StudyEngine.open(study, clock=lambda: datetime.now(UTC))
    engine.store.add_reader("cyto1", "specialist", "1234")
    with aided_reads_without_ai():  # reads.csv's versions, not the AI: a store as older versions wrote it
        rs = engine.start("cyto1", engine.sessions("cyto1")[0].index)
        first = None
        while (item := rs.next_item()) is not None:
            now = datetime.now(UTC)
            answer = "CIN2+" if first is None else engine.case(item.case_id).truth
            rs.submit(ReadSubmission(item.case_id, answer, now - timedelta(seconds=20), now, 20300))
            first = first or item.case_id
        now = datetime.now(UTC)
        rs.correct(ReadSubmission(first, "CIN1", now - timedelta(seconds=10), now, 9500), "mistook CIN1 koilocytes")
    rs.close()
    engine.close()
    result, metrics = _report(study, tmp_path / "out", warned=True)  # aided reads without AI, as older stores
    reads = pd.read_csv(tmp_path / "out" / "reads.csv")
    assert len(reads) == 13 and reads["current"].sum() == 12
    versions = reads[reads["case_id"] == first].set_index("read_id")
    old, new = versions.index
    assert versions.loc[old, "answer"] == "CIN2+" and not versions.loc[old, "current"]
    assert versions.loc[new, "supersedes_id"] == old and versions.loc[new, "current"]
    assert versions.loc[new, "correction_reason"] == "mistook CIN1 koilocytes"
    assert (versions.loc[old, "active_ms"], versions.loc[new, "active_ms"]) == (20300, 9500)
    assert "region_mask" not in reads.columns
    reader = next(r for r in result["readers"] if r["reader"] == "cyto1")
    assert reader["n"] == 12  # the statistics: the current reads only
