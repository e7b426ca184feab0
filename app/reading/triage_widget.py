"""The triage queue: the reading screen plus a ranked queue of slides on the left.

Bound to one TriageState.  Keys 1..n confirm or override the AI class of the
open slide at once (one submit per slide) and open the next most suspicious
slide; clicking a class and pressing Enter does the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.reading.card import side_panel
from app.reading.prefetch import MediaPrefetcher
from app.reading.reading_widget import KEY_NAMES, ReadingWidget, default_viewer
from app.reading.triage_state import TriageState

ALL = "All AI classes"


class TriageWidget(ReadingWidget):
    def __init__(self, triage: TriageState, prefetcher: MediaPrefetcher, *, title: str = "",
                 viewer_factory: Callable[[bool], QWidget] = default_viewer,
                 parent: QWidget | None = None) -> None:
        self.triage = triage
        super().__init__(triage.reading, prefetcher, title=title, viewer_factory=viewer_factory, parent=parent)
        self.setObjectName("triageScreen")
        queue, col = side_panel("queuePanel", 300, (12, 12), 8)
        head = QLabel("Triage queue")
        head.setObjectName("panelTitle")
        col.addWidget(head)
        self.remaining_label = QLabel()
        self.remaining_label.setObjectName("hint")
        col.addWidget(self.remaining_label)
        self.filter_box = QComboBox()
        self.filter_box.addItem(ALL)
        self.filter_box.addItems(triage.labels)
        self.filter_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.filter_box.currentTextChanged.connect(self.on_filter_changed)
        col.addWidget(self.filter_box)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["#", "AI class", "Score", "Review"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellClicked.connect(self.on_row_clicked)
        col.addWidget(self.table, 1)
        self.body.insertWidget(0, queue)
        self._row_ids: list[str] = []
        self.question_label.setText(self.protocol.task.question or "Confirm or change the class")
        # One key or one click per slide: the class chosen is the answer, no separate submit.
        self.submit_button.setVisible(False)

    # -- flow -------------------------------------------------------------------
    def begin(self) -> None:
        self.triage.open_next()
        self.show_current()
        self.ticker.start()

    def next_to_prefetch(self):
        current = self.state.item
        for row in self.triage.visible_rows() + self.triage.rows:
            if not row.done and (current is None or row.case_id != current.case_id):
                return self.triage.reading.session.item(row.case_id)
        return None

    def on_submit(self) -> None:
        answer = self.state.answer
        if not self.state.can_submit:
            self.refresh()
            return
        self._confirm(answer.index)  # type: ignore[attr-defined]

    item_noun = "slide"

    def _skip(self, cause: str) -> None:
        self.triage.skip_unavailable(cause)

    def on_answer_changed(self) -> None:
        index = getattr(self.state.answer, "index", None)
        if index is not None:
            self._confirm(index)

    def _confirm(self, index: int) -> None:
        if self.state.item is None or self.state.paused or self.state.loading:
            return
        self._commit(lambda: self.triage.confirm(index))

    def handle_key(self, event: QKeyEvent) -> bool:
        name = KEY_NAMES.get(event.key())
        if name is not None and name.isdigit() and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            index = int(name) - 1
            if 0 <= index < len(self.triage.labels):
                self._confirm(index)
                return True
        return super().handle_key(event)

    def on_filter_changed(self, text: str) -> None:
        self.triage.set_filter(None if text == ALL else text)
        self.refresh()

    def on_row_clicked(self, row: int, _column: int) -> None:
        case_id = self._row_ids[row]
        current = self.state.item
        target = next(r for r in self.triage.rows if r.case_id == case_id)
        if target.done or (current is not None and current.case_id == case_id):
            self.refresh()
            return
        self.triage.open(case_id)
        self.show_current()

    # -- drawing ----------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        if not hasattr(self, "table"):
            return  # called from the base constructor before the queue exists
        t = self.triage
        total = len(t.rows)
        self.remaining_label.setText(f"{t.remaining} of {total} slides to review")
        current = t.current
        if current is not None:
            self.progress_label.setText(f"Slide {current.rank} of {total}  \u00b7  {t.remaining} to review")
        rows = t.visible_rows()
        self._row_ids = [r.case_id for r in rows]
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            score = "" if math.isnan(r.score) else f"{r.score:.2f}"
            review = (r.answer or "done") if r.done else ""  # earlier sittings: done, answer not shown
            cells = (str(r.rank), r.ai_class or "\u2013", score, review)
            for j, text in enumerate(cells):
                item = self.table.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(i, j, item)
                item.setText(text)
                if j in (0, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                item.setFlags(flags if not r.done else Qt.ItemFlag.ItemIsEnabled)
                item.setForeground(self.palette().placeholderText() if r.done else self.palette().text())
        if current is not None and current.case_id in self._row_ids:
            self.table.selectRow(self._row_ids.index(current.case_id))
        else:
            self.table.clearSelection()
        self.problem_label.setText(self.error_text)

    def key_hint(self) -> str:
        return (f"1\u2013{len(self.triage.labels)} or a click confirms or changes the class\n"
                "the next slide opens \u00b7 P pauses \u00b7 C heat map")
