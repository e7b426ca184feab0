"""The triage queue's table model: reads the TriageState, holds no answers of its own.

A QTableWidget with a size-to-contents header re-measured every row on each
item change, so redrawing a 300-slide queue after a confirm took seconds (the
freeze of issue 10).  A model answers only for the rows on screen, and a
refresh is one ``dataChanged`` signal.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette

from app.reading.triage_state import TriageRow, TriageState

Index = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()


class TriageQueueModel(QAbstractTableModel):
    def __init__(self, triage: TriageState, palette: QPalette) -> None:
        super().__init__()
        self.triage = triage
        self._palette = palette
        self._rows: list[TriageRow] = []  # the rows on screen, as the state gave them at the last refresh
        self._columns: list[str] = []
        self._cells: list[tuple[str, ...]] = []  # display texts of those rows

    # -- what the state says ----------------------------------------------------------
    def _headers(self) -> list[str]:
        if not self.triage.aided:
            return ["#", "Answer"]
        cls = self.triage.score_class
        return ["#", "AI class", f"AI P({cls})" if cls else "AI score", "Answer"]

    def refresh(self) -> None:
        """Re-read the state: one reset when rows or columns changed, else a dataChanged
        for the rows whose text changed (a confirm repaints one row, not the queue)."""
        rows, headers = self.triage.visible_rows(), self._headers()
        if headers != self._columns or [r.case_id for r in rows] != [r.case_id for r in self._rows]:
            self.beginResetModel()
            self._rows, self._columns = rows, headers
            self._cells = [self._texts(r) for r in rows]
            self.endResetModel()
            return
        changed = [i for i, (old, new) in enumerate(zip(self._rows, rows)) if old != new]
        self._rows = rows
        for i in changed:
            self._cells[i] = self._texts(rows[i])
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(headers) - 1))

    def _texts(self, r: TriageRow) -> tuple[str, ...]:
        out = []
        for name in self._columns:
            if name == "#":
                out.append(str(r.rank))
            elif name == "AI class":
                out.append(r.ai_class or "\u2013")
            elif name == "Answer":
                out.append((r.answer or "done") if r.done else "")
            else:
                out.append("" if math.isnan(r.score) else f"{r.score:.2f}")
        return tuple(out)

    def case_id(self, row: int) -> str:
        return self._rows[row].case_id

    def row_of(self, case_id: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.case_id == case_id), None)

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        name = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            if name.startswith("AI P("):
                return f"The AI's probability that the slide is {self.triage.score_class}; the queue is sorted by it"
            if name == "AI class":
                return "The class the AI gives the slide"
            if name == "Answer":
                return "Your answer; click a reviewed slide to correct it"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _FLAGS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        # Called for every role of every visible cell on each paint: answer the three it uses, fast.
        if role == _DISPLAY:
            return self._cells[index.row()][index.column()]
        if role == _FOREGROUND:
            return self._palette.placeholderText() if self._rows[index.row()].done else self._palette.text()
        if role == _ALIGN:
            return _RIGHT if self._columns[index.column()] not in ("AI class", "Answer") else None
        return None


_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY, _FOREGROUND, _ALIGN = (
    int(Qt.ItemDataRole.DisplayRole),
    int(Qt.ItemDataRole.ForegroundRole),
    int(Qt.ItemDataRole.TextAlignmentRole),
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
