"""The Results tab never cuts off a table row: the upper pane is as tall as its wrapped sentences
and tables need at the window's width, and the per-group table's numbers are never elided
(a narrow window scrolls the table sideways, below its last row)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QRegion

from app.admin.dashboard_state import DashboardState
from app.admin.dashboard_widget import DashboardWidget
from study.stats.simulate import simulate, uterine_sarcoma


@pytest.fixture(autouse=True)
def themed(qapp):
    """The app's stylesheet (its cell padding and fonts decide the sizes); restored afterwards."""
    from PySide6.QtWidgets import QApplication

    from app.reading.theme import apply_theme

    saved = (qapp.style().name(), QApplication.palette(), qapp.styleSheet(), qapp.font())
    apply_theme(qapp)
    yield
    style, palette, sheet, font = saved
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


@pytest.fixture(scope="module")
def simulated():
    return simulate(uterine_sarcoma(), seed=2026)


def fully_visible(table, row: int) -> bool:
    rect = table.visualRect(table.model().index(row, 0)).united(
        table.visualRect(table.model().index(row, table.columnCount() - 1))
    )
    rect.setLeft(0)
    rect.setRight(min(rect.right(), table.viewport().width() - 1))
    shown = table.viewport().visibleRegion().intersected(QRegion(rect))
    return shown.boundingRect() == rect


@pytest.mark.parametrize("size", [(1100, 800), (1440, 900)])
def test_every_row_of_the_per_group_table_is_on_screen(qtbot, simulated, size):
    reads, ai = simulated
    w = DashboardWidget(DashboardState(None, title="Simulated"))
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    with qtbot.waitSignal(w.analysis_shown, timeout=60_000):
        w.load_frames(reads, ai, "simulated")
    t = w.paper_table
    assert t.rowCount() == 3
    qtbot.waitUntil(lambda: all(fully_visible(t, r) for r in range(t.rowCount())), timeout=3000)
    # no number elided: every column is at least as wide as its widest cell
    for c in range(t.columnCount()):
        assert t.columnWidth(c) >= t.sizeHintForColumn(c)
    # a sideways scroll bar, when the window is too narrow, sits below the last row
    bar = t.horizontalScrollBar()
    if bar.isVisible():
        last = t.visualRect(t.model().index(t.rowCount() - 1, 0))
        assert t.viewport().mapTo(t, last.bottomLeft()).y() < bar.mapTo(t, QPoint(0, 0)).y()
    print(
        f"{size}: pane {w.top_pane.height()} px for {w.top_pane.needed_height()} needed; scroll bar {bar.isVisible()}"
    )
