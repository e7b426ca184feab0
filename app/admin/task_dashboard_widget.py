"""Results of a multiclass, numeric or grade-distribution study: the per reader x mode metrics
of `readerstudy report` (AI as a reader), group sentences and a detail view of one row."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.admin import dashboard_state as ds
from app.admin.dashboard_plots import BlandAltmanPlotWidget, GradeBarsPlotWidget
from app.admin.tables import FittedPaneWidget, fill, readonly_table

MAX_VISIBLE_ROWS = 10
HEAT = (31, 119, 180)  # the plots' first palette colour; cells blend from the base towards it


class ConfusionPanel(QWidget):
    """Counts of truth (rows) x answer (columns), each cell tinted by its share of the row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("sectionLabel")
        self.table = readonly_table()
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(False)  # the tint carries the meaning
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.title)
        col.addWidget(self.table, 1)

    def show_matrix(self, labels: list[str], counts: list[list[int]], label: str) -> None:
        self.title.setText(f"Confusion matrix: {label} (rows truth, columns answer)")
        fill(
            self.table,
            [f"answer {x}" for x in labels],
            [[str(c) for c in row] for row in counts],
            row_labels=[f"truth {x}" for x in labels],
        )
        for r, row in enumerate(counts):
            total = sum(row) or 1
            for c, n in enumerate(row):
                share = n / total
                item = self.table.item(r, c)
                item.setBackground(QBrush(QColor(*(int(20 + share * (h - 20)) for h in HEAT))))
                item.setForeground(QBrush(QColor("#ffffff" if share > 0.15 else "#c9d0d8")))
                font = item.font()
                font.setBold(r == c)  # the diagonal: right answers
                item.setFont(font)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)


class TaskResultsPanel(QWidget):
    """Table, sentences and a reader x mode selector driving the confusion matrix, Bland-Altman or bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: ds.TaskAnalysis | None = None
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.sentences_label = QLabel()
        self.sentences_label.setObjectName("mrmcSentence")
        self.sentences_label.setWordWrap(True)
        self.sentences_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = readonly_table()
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self.on_table_selection_changed)
        self.selector = QComboBox()
        self.selector.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.selector.setMinimumContentsLength(18)  # "reader · unaided" never clipped
        self.selector.currentIndexChanged.connect(self.on_selector_changed)

        self.confusion = ConfusionPanel()
        self.bland_altman = BlandAltmanPlotWidget()
        self.bars = GradeBarsPlotWidget()
        self.detail = QStackedWidget()
        for w in (self.confusion, self.bland_altman, self.bars):
            self.detail.addWidget(w)

        top = QWidget()
        tcol = QVBoxLayout(top)
        tcol.setContentsMargins(0, 0, 0, 0)
        tcol.addWidget(self.summary_label)
        heading = QLabel("Per group")
        heading.setObjectName("sectionLabel")
        tcol.addWidget(heading)
        tcol.addWidget(self.sentences_label)
        heading2 = QLabel("Per reader and mode (the AI as a reader): the numbers of metrics.csv")
        heading2.setObjectName("sectionLabel")
        tcol.addWidget(heading2)
        tcol.addWidget(self.table, 1)
        # Specimen triage (issue 17): time, fields opened, decisive field among the AI's picks.
        self.specimen_heading = QLabel("Per specimen (triage galleries): the numbers of specimens.csv")
        self.specimen_heading.setObjectName("sectionLabel")
        self.specimen_table = readonly_table()
        self.specimen_table.verticalHeader().setVisible(False)
        tcol.addWidget(self.specimen_heading)
        tcol.addWidget(self.specimen_table)
        self.specimen_heading.hide()
        self.specimen_table.hide()

        bottom = QWidget()
        bcol = QVBoxLayout(bottom)
        bcol.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Reader × mode:"))
        pick.addWidget(self.selector)
        pick.addStretch(1)
        bcol.addLayout(pick)
        bcol.addWidget(self.detail, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        self.top_pane = FittedPaneWidget(top)
        split.addWidget(self.top_pane)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(split)

    def show_analysis(self, ta: ds.TaskAnalysis) -> None:
        self.analysis = ta
        self.summary_label.setText(ds.task_summary(ta))
        self.sentences_label.setText("\n".join(ds.group_sentences(ta)))
        cols, cells = ds.task_table(ta)
        fill(self.table, cols, cells)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # tall enough for every row of a small study (up to ten), scrolling only beyond
        rows = sum(self.table.rowHeight(r) for r in range(min(len(cells), MAX_VISIBLE_ROWS)))
        scrollbar = self.table.horizontalScrollBar().sizeHint().height()  # room for it when columns overflow
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height() + rows + 2 * self.table.frameWidth() + scrollbar
        )
        has_specimens = bool(ta.specimens)
        self.specimen_heading.setVisible(has_specimens)
        self.specimen_table.setVisible(has_specimens)
        if has_specimens:
            scols, scells = ds.specimen_table(ta)
            fill(self.specimen_table, scols, scells)
            self.specimen_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            srows = sum(self.specimen_table.rowHeight(r) for r in range(min(len(scells), MAX_VISIBLE_ROWS)))
            self.specimen_table.setMinimumHeight(
                self.specimen_table.horizontalHeader().sizeHint().height()
                + srows
                + 2 * self.specimen_table.frameWidth()
            )
        self.detail.setCurrentWidget(
            {"multiclass": self.confusion, "numeric": self.bland_altman}.get(ta.task.kind, self.bars)
        )
        kept = self.selector.currentText()  # auto-refresh must not jump back to the first row
        self.selector.blockSignals(True)  # one redraw below, not one per item
        self.selector.clear()
        for reader, mode in ta.row_keys():
            self.selector.addItem(f"{reader} · {mode}", (reader, mode))
        self.selector.blockSignals(False)
        index = max(0, self.selector.findText(kept))  # by text: findData cannot match a Python tuple
        self.selector.setCurrentIndex(index)
        self.on_selector_changed(index)

    def on_table_selection_changed(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if len(rows) == 1:
            self.selector.setCurrentIndex(rows.pop())

    def on_selector_changed(self, index: int) -> None:
        ta = self.analysis
        if ta is None or index < 0:
            return
        key = self.selector.itemData(index)
        label = self.selector.itemText(index)
        if ta.task.kind == "multiclass":
            self.confusion.show_matrix(*ds.confusion(ta, key), label)
        elif ta.task.kind == "numeric":
            self.bland_altman.show_series(ds.bland_altman_series(ta, key), label, ta.task.unit)
        else:
            self.bars.show_bars(*ds.mean_distributions(ta, key), label)
