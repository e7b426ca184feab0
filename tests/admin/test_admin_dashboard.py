"""The dashboard over a seeded simulated study shows exactly analyze()'s numbers and exports the report."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.admin.dashboard_state import DashboardState, mrmc_sentence
from app.admin.dashboard_widget import DashboardWidget
from app.admin.tables import cell_texts
from study.export.report import FILES
from study.export.tables import paper_table
from study.stats.analysis import analyze
from study.stats.simulate import simulate, uterine_sarcoma


@pytest.fixture(scope="module")
def simulated():
    reads, ai = simulate(uterine_sarcoma(), seed=11)
    return reads, ai, analyze(reads, ai=ai)


def test_mrmc_sentence_reads_the_or_hillis_result(simulated):
    _, _, result = simulated
    res = result["mrmc"]["auc"]
    pair = res["pairwise"][0]
    text = mrmc_sentence(result, "auc")
    assert text.startswith(
        f"AUC unaided {res['estimates']['unaided']:.2f} vs aided {res['estimates']['aided']:.2f}, "
        f"difference {-pair['difference']:.2f} (95% CI {-pair['ci95'][1]:.2f} to {-pair['ci95'][0]:.2f})"
    )
    assert f"F = {res['f']:.1f}, df = 1, {res['df2']:.1f}, p" in text
    assert -pair["difference"] > 0  # the simulated AI helps


def test_dashboard_shows_analyze_numbers(qtbot, simulated, tmp_path):
    reads, ai, expected = simulated
    w = DashboardWidget(DashboardState(None, title="Simulated sarcoma study"))
    qtbot.addWidget(w)
    w.resize(1200, 900)
    with qtbot.waitSignal(w.analysis_shown, timeout=30_000):
        w.load_frames(reads, ai, "simulated")
    cols, rows, cells = paper_table(expected)
    assert rows == ["Specialists", "Residents", "AI alone"]
    assert [w.paper_table.horizontalHeaderItem(c).text() for c in range(len(cols))] == cols
    assert cell_texts(w.paper_table) == cells
    for fom, label in w.mrmc_labels.items():
        assert label.text() == mrmc_sentence(expected, fom)
    by = {(r["reader"], r["modality"]): r for r in expected["readers"]}
    for (reader, mode), (x, y) in w.roc_plot.points.items():
        assert (x, y) == pytest.approx((1 - by[(reader, mode)]["specificity"], by[(reader, mode)]["sensitivity"]))
    assert len(w.roc_plot.arrows) == 6 and ("AI", "standalone") in w.roc_plot.points
    assert [r.sensitivity for r in w.forest_plot.rows] == [r["sensitivity"] for r in expected["readers"]]
    total = expected["switching"]["total"]["ai_right"]
    assert cell_texts(w.switching_table)[0][2:6] == [
        str(total[k]) for k in ("wrong_to_right", "right_to_wrong", "stayed_right", "stayed_wrong")
    ]
    assert cell_texts(w.time_table)[0][1].startswith(f"{by[('S1', 'unaided')]['seconds_mean']:.1f} / ")

    out = tmp_path / "export"
    with qtbot.waitSignal(w.exported, timeout=60_000) as blocker:
        w.export_to(out)
    assert sorted(blocker.args[0]) == sorted(FILES)
    assert all((out / name).stat().st_size > 0 for name in FILES)


def test_bad_reads_csv_shows_the_problem_lines(qtbot, tmp_path):
    bad = tmp_path / "reads.csv"
    bad.write_text("reader,modality,case,truth\nR1,unaided,C1,1\n")
    w = DashboardWidget(DashboardState(None))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.failed, timeout=10_000) as blocker:
        w.load_csv(bad)
    assert "rating" in blocker.args[0]
    assert "rating" in w.status_label.text() and not w.export_button.isEnabled()


def test_dashboard_from_reads_and_ai_csv_files(qtbot, simulated, tmp_path):
    from study.stats.cli import read_csv

    reads, ai, _ = simulated
    reads.to_csv(tmp_path / "reads.csv", index=False)
    ai.to_csv(tmp_path / "ai.csv", index=False)
    expected = analyze(read_csv(tmp_path / "reads.csv", "reads"), ai=read_csv(tmp_path / "ai.csv", "AI outputs"))
    w = DashboardWidget(DashboardState(None))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.analysis_shown, timeout=30_000):
        w.load_csv(tmp_path / "reads.csv", tmp_path / "ai.csv")
    assert cell_texts(w.paper_table) == paper_table(expected)[2]
    assert w.mrmc_labels["sensitivity"].text() == mrmc_sentence(expected, "sensitivity")
    assert "reads.csv" in w.status_label.text()


def test_export_dialog_starts_in_a_folder_that_exists(qtbot, simulated, tmp_path, monkeypatch):
    from app.admin import dashboard_widget

    study = tmp_path / "study"
    study.mkdir()
    reads, ai, _ = simulated
    w = DashboardWidget(DashboardState(study, title="Simulated sarcoma study"))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.analysis_shown, timeout=30_000):
        w.load_frames(reads, ai, "simulated")
    offered = []

    def accept_prefilled(parent, caption, start):  # the researcher presses Choose on what is offered
        offered.append(start)
        return start

    monkeypatch.setattr(dashboard_widget.QFileDialog, "getExistingDirectory", accept_prefilled)
    with qtbot.waitSignal(w.exported, timeout=60_000):
        qtbot.mouseClick(w.export_button, Qt.MouseButton.LeftButton)
    assert offered == [str(study / "export")] and (study / "export").is_dir()
    assert all((study / "export" / name).stat().st_size > 0 for name in FILES)
    assert w.status_label.objectName() == "successLabel" and "Wrote" in w.status_label.text()
