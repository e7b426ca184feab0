"""Small helpers to fill read-only QTableWidgets from lists of strings."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem


def readonly_table(stretch_last: bool = False) -> QTableWidget:
    t = QTableWidget()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(26)
    t.horizontalHeader().setStretchLastSection(stretch_last)
    return t


def fill(table: QTableWidget, columns: list[str], rows: list[list[str]], row_labels: list[str] | None = None) -> None:
    table.clear()
    table.setColumnCount(len(columns))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels(columns)
    if row_labels is not None:
        table.setVerticalHeaderLabels(row_labels)
    for r, line in enumerate(rows):
        for c, text in enumerate(line):
            item = QTableWidgetItem(text)
            item.setTextAlignment(
                Qt.AlignmentFlag.AlignCenter
                if c or row_labels is not None
                else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            )
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    table.resizeRowsToContents()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


def fit_height(table: QTableWidget) -> None:
    """Make a short table exactly as tall as its rows (no scrolling inside a 3-row table)."""
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    # sizeHint, not height(): the header has no geometry before the table is first shown.
    height = table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
    table.setFixedHeight(height + 2 * table.frameWidth() + 2)


def cell_texts(table: QTableWidget) -> list[list[str]]:
    """The table's cells as text (tests compare them to the statistics)."""
    return [
        [table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
