"""The Results tab of multiclass, numeric and grade-distribution studies: reads submitted through
the engine and AI outputs in the store come out as analyze_task's numbers, and export as the CLI's."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.admin import dashboard_state as ds
from app.admin.dashboard_widget import DashboardWidget
from app.admin.tables import cell_texts
from study.aioutput import AIOutput
from study.demo.conjunctiva import build_conjunctiva
from study.demo.cytology import build_cytology
from study.demo.motility import build_motility
from study.engine import StudyEngine
from study.export.task_report import FILES, analyze_task, load_task_study, task_reads
from tests.aimodel import aided_reads_without_ai
from tests.reads import read_session

GRADES = ["A", "B", "C", "D", "E"]
READERS = (("S1", "specialist"), ("R1", "resident"))


def _cyto_answer(case, reader: str) -> dict:
    # S1 right on every other case, R1 calls everything below CIN2+ normal: different matrices
    if reader == "S1":
        return {"answer": case.truth if case.case_id[-1] in "02468" else "CIN1"}
    return {"answer": case.truth if case.truth == "CIN2+" else "normal"}


def _conj_answer(case, reader: str) -> dict:
    bias = 0.8 if reader == "S1" else -0.5
    return {"answer": "x", "value": round(float(case.truth) + bias + 0.3 * np.sin(sum(map(ord, case.case_id))), 1)}


def _mot_answer(case, reader: str) -> dict:
    probs = [float(p) for p in case.truth.split(";")]
    order = np.argsort(probs)[::-1]
    return {"answer": GRADES[int(order[0] if reader == "S1" else order[1])]}


def _ai_output(case, kind: str) -> AIOutput:
    if kind == "multiclass":
        return AIOutput(
            case.case_id,
            "m",
            "multiclass",
            ("normal", "CIN1", "CIN2+"),
            (0.1, 0.1, 0.8),
            predicted=case.truth if case.case_id[-1] != "3" else "normal",
            score=0.8,
        )
    if kind == "numeric":
        v = float(case.truth) + 0.2
        return AIOutput(case.case_id, "m", "regression", value=v, predicted=str(v), score=v)
    probs = [float(p) for p in case.truth.split(";")]
    smooth = tuple(0.7 * p + 0.3 / len(probs) for p in probs)
    return AIOutput(
        case.case_id,
        "m",
        "grade_distribution",
        tuple(GRADES),
        smooth,
        predicted=GRADES[int(np.argmax(smooth))],
        score=max(smooth),
    )


BUILDERS = {
    "multiclass": (build_cytology, _cyto_answer),
    "numeric": (build_conjunctiva, _conj_answer),
    "grade_distribution": (build_motility, _mot_answer),
}


def make_study(kind: str, folder: Path, n: int = 12, readers=READERS, ai: bool = True) -> Path:
    """A demo study of the task kind with the AI's outputs (store) and the readers' reads (engine).

    ``ai=False``: aided reads with no AI output stored, as older versions wrote them (the
    Results tab must still show such a store)."""
    build, answer = BUILDERS[kind]
    study = build(folder, seed=3, n=n)
    engine = StudyEngine.open(study, clock=lambda: datetime.now(UTC))
    for case in engine.cases if ai else ():
        engine.store.put_ai_output(_ai_output(case, kind))
    with contextlib.nullcontext() if ai else aided_reads_without_ai():
        _read_all(engine, readers, answer)
    engine.close()
    return study


def _read_all(engine, readers, answer) -> None:
    for reader, group in readers:
        engine.store.add_reader(reader, group, "1234")
        for info in engine.sessions(reader):
            rs = engine.start(reader, info.index)
            read_session(rs, lambda case_id: answer(engine.case(case_id), reader))  # noqa: B023 - used at once
            rs.close()


def _expected(study: Path) -> tuple:
    task, reads, ai = load_task_study(study)
    typed = task_reads(pd.concat([reads, ai], ignore_index=True), task)
    return task, typed, sorted(analyze_task(typed, task), key=ds.row_order(typed))


def _open(qtbot, study: Path) -> DashboardWidget:
    w = DashboardWidget(ds.DashboardState(study, title="Task study"))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    with qtbot.waitSignal(w.analysis_shown, timeout=60_000):
        w.on_refresh_clicked()
    assert w.pages.currentWidget() is w.task_panel
    return w


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("task-studies")
    return {kind: make_study(kind, root / kind) for kind in BUILDERS}


def _f(v: float) -> str:
    return f"{v:.3f}"


def test_multiclass_table_confusion_and_sentences(qtbot, studies):
    w = _open(qtbot, studies["multiclass"])
    task, _, rows = _expected(studies["multiclass"])
    cells = cell_texts(w.task_panel.table)
    assert [c[:2] for c in cells] == [[r["reader"], r["modality"]] for r in rows]
    assert ("AI", "standalone") in [(r["reader"], r["modality"]) for r in rows]
    head = [w.task_panel.table.horizontalHeaderItem(c).text() for c in range(w.task_panel.table.columnCount())]
    for line, r in zip(cells, rows):
        lo, hi = r["accuracy_ci95"]
        assert line[head.index("Accuracy (95% CI)")] == f"{_f(r['accuracy'])} ({_f(lo)} to {_f(hi)})"
        for lab in task.labels:
            rates = r["per_class"][lab]
            assert line[head.index(f"{lab} sens / spec")] == f"{_f(rates['sensitivity'])} / {_f(rates['specificity'])}"
        bc = r["binary_collapse"]
        assert line[head.index("CIN2+ vs rest sens / spec")] == f"{_f(bc['sensitivity'])} / {_f(bc['specificity'])}"
    for i, r in enumerate(rows):  # the confusion matrix follows the selector
        w.task_panel.selector.setCurrentIndex(i)
        shown = [[int(t) for t in line] for line in cell_texts(w.task_panel.confusion.table)]
        assert shown == r["counts"]
    sentences = w.task_panel.sentences_label.text().splitlines()
    assert len(sentences) == len({(r["group"], r["modality"]) for r in rows})
    ai = next(r for r in rows if r["reader"] == "AI")
    assert f"AI alone: accuracy {ai['accuracy']:.2f}" in sentences[-1]


def test_numeric_table_and_bland_altman(qtbot, studies):
    w = _open(qtbot, studies["numeric"])
    _, _, rows = _expected(studies["numeric"])
    cells = cell_texts(w.task_panel.table)
    for line, r in zip(cells, rows):
        ba = r["bland_altman"]
        assert line[4:] == [
            _f(r["mae"]),
            _f(r["rmse"]),
            f"{_f(r['r'])} ({_f(r['r_ci95'][0])} to {_f(r['r_ci95'][1])})",
            f"{_f(ba['bias'])} ({_f(ba['bias_ci95'][0])} to {_f(ba['bias_ci95'][1])})",
            _f(ba["loa"][0]),
            _f(ba["loa"][1]),
        ]
    w.task_panel.selector.setCurrentIndex(1)
    r = rows[1]
    series = w.task_panel.bland_altman.series
    assert series.bias == pytest.approx(r["bland_altman"]["bias"])
    assert series.loa == pytest.approx(tuple(r["bland_altman"]["loa"]))
    assert np.mean(series.differences) == pytest.approx(r["bland_altman"]["bias"])
    assert len(series.means) == r["n"]
    with qtbot.waitSignal(w.analysis_shown, timeout=60_000):  # a refresh keeps the chosen row
        w.on_refresh_clicked()
    assert w.task_panel.selector.currentIndex() == 1


def test_grades_table_bars_and_export(qtbot, studies, tmp_path):
    w = _open(qtbot, studies["grade_distribution"])
    _, _, rows = _expected(studies["grade_distribution"])
    assert [(r["reader"], r["modality"]) for r in rows] == [
        ("S1", "unaided"),
        ("S1", "aided"),
        ("R1", "unaided"),
        ("R1", "aided"),
        ("AI", "standalone"),
    ]
    cells = cell_texts(w.task_panel.table)
    for line, r in zip(cells, rows):
        assert line[4:] == [_f(r[k]) for k in ds.GRADE_KEYS]
    ai_index = next(i for i, r in enumerate(rows) if r["reader"] == "AI")
    w.task_panel.selector.setCurrentIndex(ai_index)
    predicted, raters = w.task_panel.bars.heights
    assert predicted.sum() == pytest.approx(1.0) and raters.sum() == pytest.approx(1.0)
    assert predicted == pytest.approx(0.7 * raters + 0.3 / len(GRADES))  # the AI's smoothing, averaged

    out = tmp_path / "export"
    with qtbot.waitSignal(w.exported, timeout=60_000) as blocker:
        w.export_to(out)
    # The report's files, and the audit chain's anchor beside them and in the study's anchor file.
    assert sorted(blocker.args[0]) == sorted([*FILES, "audit_anchor"])
    assert all((out / name).stat().st_size > 0 for name in FILES)
    anchor = (out / "AUDIT_ANCHOR.txt").read_text().strip()
    assert (
        anchor.startswith("readerstudy-audit-anchor ")
        and anchor in (studies["grade_distribution"] / "readerstudy.anchors").read_text()
    )
    metrics = pd.read_csv(out / "metrics.csv")
    by = {(r["reader"], r["modality"]): r["emd"] for r in rows}
    assert list(metrics["emd"]) == pytest.approx([by[k] for k in zip(metrics["reader"], metrics["modality"])])


def test_before_precompute_the_readers_alone(qtbot, tmp_path):
    """Live while the study runs: no AI outputs stored yet, one reader done."""
    study = make_study("numeric", tmp_path / "live", n=8, readers=READERS[:1], ai=False)
    w = _open(qtbot, study)
    _, _, rows = _expected(study)
    assert (
        [c[:2] for c in cell_texts(w.task_panel.table)]
        == [["S1", "aided"]]
        == [[r["reader"], r["modality"]] for r in rows]
    )
    assert "No AI outputs stored" in w.task_panel.summary_label.text()
    assert w.task_panel.bland_altman.series.bias == pytest.approx(rows[0]["bland_altman"]["bias"])


def test_specimen_statistics_in_the_results_tab(qtbot, tmp_path):
    """Issue 17: a specimen triage study's Results tab shows the specimens.csv numbers."""
    from app.admin.task_dashboard_widget import TaskResultsPanel
    from tests.reading.specimen_helpers import make_specimen_study, put_specimen_ai, read_two_specimens

    folder = make_specimen_study(tmp_path / "s", top_k=2)
    put_specimen_ai(folder)
    read_two_specimens(folder)
    ta = ds.analyze_task_store(folder.path)
    panel = TaskResultsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_analysis(ta)
    assert panel.specimen_table.isVisible()
    cols = [panel.specimen_table.horizontalHeaderItem(c).text() for c in range(3)]
    assert cols == ["Reader", "Mode", "Specimens"]
    assert cell_texts(panel.specimen_table) == [["r1", "aided", "2", "8.5", "1.50", "1/2 = 0.500", "0.500"]]
    panel.resize(1300, 900)
    panel.grab().save("/tmp/specimen_results.png")
