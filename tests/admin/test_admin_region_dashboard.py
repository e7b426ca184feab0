"""The Results tab of a region (segmentation) study: the region statistics of `readerstudy report`
(Dice, IoU, HD95, area error per reader and mode, the AI as a reader, unaided to aided, area AUC
against the AI), the binary sections hidden, and "Export report…" writing the CLI's folder.
Reads go through the engine into a real store; masks are real PNG truths grown or shrunk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from app.admin import dashboard_state as ds
from app.admin import region_results_state as rs
from app.admin.dashboard_state import DashboardState
from app.admin.dashboard_widget import DashboardWidget
from app.admin.tables import cell_texts
from study.engine import ReadSubmission, StudyEngine
from study.region import Region
from study.stats.regions import dice, hd95, iou
from tests.regionstudy import SPACING_MM, write_region_study, write_series_region_study


def grown(mask: np.ndarray, k: int) -> np.ndarray:
    """The mask dilated by k pixels in-plane (eroded for k < 0); a series slice by slice."""
    plane = ndimage.generate_binary_structure(2, 1)
    structure = plane if mask.ndim == 2 else plane[None]
    if k > 0:
        return ndimage.binary_dilation(mask, structure, iterations=k)
    return ndimage.binary_erosion(mask, structure, iterations=-k) if k < 0 else mask.copy()


def lead(cell: str) -> float:
    """The mean of a '0.912 ± 0.031\n[0.874, 0.950]' cell (rounded to 3 digits: compared within 6e-4)."""
    return float(cell.split(" ± ")[0])


# reader -> (pixels grown unaided, pixels grown aided): r1 overshoots, r2 undershoots; both closer aided
DRAWING = {"r1": (3, 1), "r2": (-3, 0)}


def read_sessions(study, sessions: dict[str, tuple[int, ...]], spacing=(SPACING_MM, SPACING_MM)) -> None:
    """Each reader reads every case of the listed sessions; session 2 opens after the washout."""
    now = [datetime.now(UTC)]
    engine = StudyEngine.open(study.path, clock=lambda: now[0])
    try:
        for reader, indexes in sessions.items():
            for index in indexes:
                if index == 2:
                    now[0] += timedelta(days=study.protocol.washout_days + 1)
                session = engine.start(reader, index)
                while (item := session.next_item()) is not None:
                    mask = grown(study.truth_masks[item.case_id], DRAWING[reader][index - 1])
                    shown, now[0] = now[0], now[0] + timedelta(seconds=5)
                    truth = engine.cases[[c.case_id for c in engine.cases].index(item.case_id)].truth
                    session.submit(
                        ReadSubmission(
                            item.case_id, truth, shown, now[0], 5000, confidence=60.0, region=Region(mask, spacing)
                        )
                    )
                session.close()
    finally:
        engine.close()


@pytest.fixture
def read_study(tmp_path):
    """Four photo cases (two with glaucoma), the AI's masks, r1 and r2 read unaided then aided."""
    study = write_region_study(tmp_path / "region", n=4, retina=False)
    study.put_ai()
    read_sessions(study, {"r1": (1, 2), "r2": (1, 2)})
    return study


def test_the_tab_shows_the_reports_numbers_and_the_ai_as_a_reader(read_study, tmp_path):
    ra = ds.analyze_store(read_study.path)
    assert isinstance(ra, rs.RegionAnalysis) and ra.source.endswith(ds.STORE_SOURCE)
    cols, rows = rs.reader_table(ra)
    assert cols[:7] == ["Reader", "Group", "Mode", "n", "Dice: mean ± SD\n[95% CI]", "IoU", "HD95 (mm)"]
    assert cols[7:9] == ["area error (mm²)", "area bias (LoA), mm²"]
    assert [(r[0], r[2]) for r in rows] == [
        ("r1", "unaided"),
        ("r1", "aided"),
        ("r2", "unaided"),
        ("r2", "aided"),
        ("AI", "AI"),
    ]
    # each reader's Dice, IoU, HD95 and area error, from the masks themselves
    truth = read_study.truth_masks
    spacing = (SPACING_MM, SPACING_MM)
    for row in rows[:4]:
        k = DRAWING[row[0]][row[2] == "aided"]
        drawn = {c: grown(t, k) for c, t in truth.items()}
        assert row[3] == "4"
        assert lead(row[4]) == pytest.approx(np.mean([dice(drawn[c], t) for c, t in truth.items()]), abs=6e-4)
        assert lead(row[5]) == pytest.approx(np.mean([iou(drawn[c], t) for c, t in truth.items()]), abs=6e-4)
        assert lead(row[6]) == pytest.approx(np.mean([hd95(drawn[c], t, spacing) for c, t in truth.items()]), abs=6e-4)
        error = np.mean([(drawn[c].sum() - t.sum()) * SPACING_MM**2 for c, t in truth.items()])
        assert lead(row[7]) == pytest.approx(error, abs=6e-4) and (error > 0) == (row[0] == "r1")
    # both readers come closer aided: the change is positive and computed on the 4 cases read both ways
    change_cols, change = rs.change_table(ra)
    assert change_cols[1] == "Cases read both ways"
    assert [(c[0], c[1]) for c in change] == [("r1", "4"), ("r2", "4")]
    assert all(float(c[4]) > 0 for c in change)
    # the combined question (glaucoma) makes the area AUC table, every reader against the AI
    det_cols, det = rs.detection_table(ra)
    assert det_cols[3] == "AUC of area (SE)"
    by = {(d[0], d[1]): d for d in det}
    assert {("r1", "unaided"), ("r2", "aided"), ("AI", "AI"), ("truth mask", "-")} <= set(by)
    assert by[("r1", "aided")][4].endswith("(n 4)") and by[("AI", "AI")][4] == "-"
    # the same numbers as the export folder `readerstudy report` writes
    paths = ds.export_report(ra, tmp_path / "out", "Tiny region study", read_study.path)
    csv = pd.read_csv(paths["region_readers.csv"]).set_index(["reader", "mode"])
    for row in rows:
        assert lead(row[4]) == pytest.approx(csv.loc[(row[0], row[2]), "dice_mean"], abs=6e-4)
    assert {"region_cases.csv", "region_results.json", "report.pdf", "reads.csv", "audit_anchor"} <= set(paths)
    assert "INTERIM" not in rs.summary_text(ra)


def test_an_interim_analysis_says_so_and_who_has_no_aided_reads(tmp_path):
    study = write_region_study(tmp_path / "region", n=3, retina=False)
    read_sessions(study, {"r1": (1,)})
    ra = ds.analyze_store(study.path)
    text = rs.summary_text(ra)
    assert text.startswith("INTERIM: 3 of 12 planned reads")  # 2 readers x 3 cases x 2 modes
    assert "1 reader, 3 cases, 3 reads in mode unaided; no AI masks stored; areas in mm²" in text
    assert rs.change_table(ra)[1] == [["r1", "0", "no aided reads yet", "-", "-", "-"]]
    assert "nan" not in " ".join(" ".join(r) for r in rs.reader_table(ra)[1])


def test_no_reads_yet_is_an_error_naming_the_study(tmp_path):
    study = write_region_study(tmp_path / "region", n=1, retina=False)
    with pytest.raises(Exception, match="no submitted region reads yet") as err:
        ds.analyze_store(study.path)
    assert str(study.path) in str(err.value)


def test_results_tab_of_a_region_study_shows_its_tables_and_exports(qtbot, read_study, tmp_path):
    w = DashboardWidget(DashboardState(read_study.path, title="Tiny region study", kind="region"))
    qtbot.addWidget(w)
    w.resize(1300, 850)
    with qtbot.waitExposed(w):  # waits only as a context manager
        w.show()
    # before the first analysis: the region page, no MRMC heading, no ROC axes, no empty table
    assert w.pages.currentWidget() is w.region_panel and not w.binary_page.isVisible()
    assert not any(t.isVisible() for t in w.region_panel.tables())
    with qtbot.waitSignal(w.analysis_shown, timeout=60_000):
        w.on_refresh_clicked()
    ra = w.state.analysis
    panel = w.region_panel
    assert w.pages.currentWidget() is panel and not w.roc_plot.isVisible()
    assert not any(label.isVisible() for label in w.mrmc_labels.values())
    assert cell_texts(panel.reader_table) == rs.reader_table(ra)[1]
    assert cell_texts(panel.change_table) == rs.change_table(ra)[1]
    assert cell_texts(panel.detection_table) == rs.detection_table(ra)[1]
    assert panel.detection_table.isVisible() and panel.summary_label.text() == rs.summary_text(ra)
    # every row on screen: the tables are as tall as their rows; each column as wide as its own cells
    for t in (panel.reader_table, panel.change_table, panel.detection_table):
        assert t.height() >= t.horizontalHeader().height() + t.verticalHeader().length()
    header = panel.reader_table.horizontalHeader()
    assert header.sectionSize(3) < header.sectionSize(4) / 2  # "n" beside "0.912 ± 0.031"
    # a narrow window scrolls the table sideways, below its last row, never over it
    w.resize(700, 850)
    t = panel.reader_table
    bar = t.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.isVisible())
    qtbot.waitUntil(lambda: t.viewport().height() >= t.verticalHeader().length(), timeout=3000)
    assert w.export_button.isEnabled()
    with qtbot.waitSignal(w.exported, timeout=120_000) as done:
        w.export_to(tmp_path / "export")
    assert {"region_cases.csv", "region_readers.csv", "report.pdf", "reads.csv"} <= set(done.args[0])
    assert (tmp_path / "export" / "report.pdf").stat().st_size > 0
    assert w.state.message_ok is True


def test_without_the_combined_question_there_is_no_detection_table(qtbot, tmp_path):
    study = write_series_region_study(tmp_path / "mr", n=2)
    read_sessions(study, {"r1": (1,), "r2": (1,)}, spacing=(0.3125, 0.3125))
    w = DashboardWidget(DashboardState(study.path, kind="region"))
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):  # waits only as a context manager
        w.show()
    with qtbot.waitSignal(w.analysis_shown, timeout=60_000):
        w.on_refresh_clicked()
    panel = w.region_panel
    assert rs.detection_table(w.state.analysis) == ([], [])
    assert not panel.detection_table.isVisible() and not panel.detection_heading.isVisible()
    assert panel.reader_table.isVisible() and panel.reader_table.rowCount() == 2  # r1, r2 unaided; no AI
    assert panel.inter_reader_table.isVisible() and cell_texts(panel.inter_reader_table)[0][:2] == ["unaided", "1"]


def test_a_volume_result_is_shown_as_volumes():
    """A series scored in 3-D (``result["volume"]``, the 3-D branch's shape) names volumes and their unit."""
    stat = {"n": 2, "mean": 0.5, "sd": 0.1, "ci_low": 0.4, "ci_high": 0.6}
    entry = {
        "reader": "r1",
        "group": "resident",
        "mode": "unaided",
        "n": 2,
        "dice": stat,
        "iou": stat,
        "hd95": stat,
        "area_error": {**stat, "mean": 99.0},
        "bland_altman": {"bias": 99.0, "loa": (98.0, 100.0)},
        "volume_error": {**stat, "mean": 0.25},
        "volume_bland_altman": {"bias": 0.25, "loa": (0.1, 0.4)},
        "hd95_undefined": 0,
        "accepted_unchanged": 0,
    }
    result = {
        "cases": [{"reader": "r1", "mode": "unaided", "hd95_unit": "mm"}],
        "readers": [entry],
        "inter_reader": {},
        "aided_change": [],
        "volume": {"key": "volume_ml", "unit": "mL"},
    }
    ra = rs.RegionAnalysis("s (store)", "lesion", result, 2, 0, None)
    cols, rows = rs.reader_table(ra)
    assert cols[7:9] == ["volume error (mL)", "volume bias (LoA), mL"]
    assert rows[0][7].startswith("0.250") and rows[0][8] == "+0.250 (+0.100, +0.400)"
    assert "volumes in mL" in rs.summary_text(ra)


def test_admin_window_gives_the_results_tab_the_study_kind(qtbot, read_study):
    from app.admin.admin_widget import AdminWidget

    w = AdminWidget(Path(read_study.path))
    qtbot.addWidget(w)
    assert w.dashboard.state.kind == "region"
    assert w.dashboard.pages.currentWidget() is w.dashboard.region_panel
