"""Small helpers to fill read-only QTableWidgets from lists of strings, and to size them and the
panes that hold them so no row is ever cut off."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


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
    """Make a short table exactly as tall as its rows (no scrolling inside a 3-row table).

    The columns share the table's width but never get narrower than the widest cell (the
    numbers are never elided); a window too narrow for them scrolls sideways, and the table
    then grows by the scroll bar's height, so the bar never covers the last row."""
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    widest = max((header.sectionSize(c) for c in range(table.columnCount())), default=0)
    header.setMinimumSectionSize(max(widest, header.minimumSectionSize()))
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.resizeRowsToContents()
    if not isinstance(table.property("heightFit"), bool):
        table.setProperty("heightFit", True)
        table.installEventFilter(_HeightFit(table))
    _refit(table)


def _refit(table: QTableWidget) -> None:
    # sizeHint, not height(): the header has no geometry before the table is first shown.
    height = table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
    header = table.horizontalHeader()
    room = table.width() - table.verticalHeader().width() - 2 * table.frameWidth()
    if table.isVisible() and header.length() > room:
        height += table.horizontalScrollBar().sizeHint().height()
    table.setFixedHeight(height + 2 * table.frameWidth() + 2)


class _HeightFit(QObject):
    """Refits a ``fit_height`` table when its width changes (the scroll bar comes or goes)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and isinstance(obj, QTableWidget):
            _refit(obj)
        return False


class FittedPaneWidget(QScrollArea):
    """The upper pane of a vertical splitter (sentences and tables above the plots): at least as
    tall as its content needs at its present width, wrapped lines included, up to ``max_share``
    of the splitter; it scrolls only beyond that, so a narrow window never cuts off a table row.

    (A splitter sizes a pane from its minimum size hint, which a word-wrapped label computes for
    some other width: the pane came out shorter than its text and tables and clipped the last row.)
    """

    def __init__(self, content: QWidget, max_share: float = 0.7, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_share = max_share
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content.installEventFilter(self)  # new text or a table grown by fit_height: fit again

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.refit()
        return False

    def needed_height(self) -> int:
        content = self.widget()
        width = self.viewport().width()
        layout = content.layout()
        if layout is not None and layout.hasHeightForWidth():
            return layout.totalHeightForWidth(width)
        return content.minimumSizeHint().height()

    def refit(self) -> None:
        need = self.needed_height()
        split = self.parentWidget()
        room = split.height() if split is not None and split.height() > 0 else need
        self.setMinimumHeight(min(need, int(room * self.max_share)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.refit()


def cell_texts(table: QTableWidget) -> list[list[str]]:
    """The table's cells as text (tests compare them to the statistics)."""
    return [
        [table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
