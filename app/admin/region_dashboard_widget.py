"""Results of a region (segmentation) study: the tables of `readerstudy report`'s region section
(per reader and mode with the AI as a reader, unaided to aided, inter-reader, disease detection)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHeaderView, QLabel, QScrollArea, QTableWidget, QVBoxLayout, QWidget

from app.admin import region_results_state as rs
from app.admin.tables import fill, readonly_table


def fit_rows(table: QTableWidget) -> None:
    """As tall as its rows, each column as wide as its own cells ("r1" beside "0.912 ± 0.031"),
    the last column taking what is left; a window too narrow for the columns scrolls the table
    sideways and the table grows by the scroll bar, so the bar never covers the last row."""
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = table.horizontalHeader()
    header.setMinimumSectionSize(40)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    table.resizeRowsToContents()
    if table.property("rowsFit") is None:
        table.setProperty("rowsFit", True)
        table.installEventFilter(_RowsFit(table))
    _refit(table)


def _refit(table: QTableWidget) -> None:
    header = table.horizontalHeader()
    # the columns' own widths, not header.length(): a stretched last section always fills the view
    need = sum(max(table.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(table.columnCount()))
    room = table.width() - 2 * table.frameWidth()
    bar = table.horizontalScrollBar().sizeHint().height() if need > room else 0
    table.setFixedHeight(header.sizeHint().height() + table.verticalHeader().length() + bar + 2 * table.frameWidth())


class _RowsFit(QObject):
    """Refits a ``fit_rows`` table when its width changes (the scroll bar comes or goes)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and isinstance(obj, QTableWidget):
            _refit(obj)
        return False


class RegionResultsPanel(QScrollArea):
    """Summary line and four tables, each as tall as its rows; the page scrolls, never a table.
    The detection table shows only when the study asks the combined binary question."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: rs.RegionAnalysis | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reader_table = self._table()
        self.change_table = self._table()
        self.inter_reader_table = self._table()
        self.detection_table = self._table()
        self.reader_heading = self._heading("Per reader and mode (the AI as a reader): region_readers.csv")
        self.change_heading = self._heading("Unaided to aided Dice, per reader (paired; Wilcoxon 1945 signed-rank)")
        self.inter_reader_heading = self._heading("Inter-reader Dice, per mode (cases both readers outlined)")
        self.detection_heading = self._heading("Disease detection from the region's area (larger = diseased)")
        content = QWidget()
        col = QVBoxLayout(content)
        col.addWidget(self.summary_label)
        for heading, table in (
            (self.reader_heading, self.reader_table),
            (self.change_heading, self.change_table),
            (self.detection_heading, self.detection_table),
            (self.inter_reader_heading, self.inter_reader_table),
        ):
            col.addWidget(heading)
            col.addWidget(table)
        col.addStretch(1)
        self.setWidget(content)
        self.summary_label.setText("Region statistics appear here once the study's reads are analysed.")
        for w in (*self.headings(), *self.tables()):  # no empty tables before the first analysis
            w.hide()

    def headings(self) -> tuple[QLabel, ...]:
        return (self.reader_heading, self.change_heading, self.detection_heading, self.inter_reader_heading)

    def tables(self) -> tuple[QTableWidget, ...]:
        return (self.reader_table, self.change_table, self.detection_table, self.inter_reader_table)

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("sectionLabel")
        label.setWordWrap(True)
        return label

    @staticmethod
    def _table() -> QTableWidget:
        t = readonly_table()
        t.verticalHeader().setVisible(False)
        return t

    def show_analysis(self, ra: rs.RegionAnalysis) -> None:
        self.analysis = ra
        self.summary_label.setText(rs.summary_text(ra))
        for w in (self.reader_heading, self.reader_table, self.change_heading, self.change_table):
            w.show()
        for w in (self.inter_reader_heading, self.inter_reader_table):
            w.setVisible(bool(ra.result["inter_reader"]))
        for table, (cols, rows) in (
            (self.reader_table, rs.reader_table(ra)),
            (self.change_table, rs.change_table(ra)),
            (self.inter_reader_table, rs.inter_reader_table(ra)),
        ):
            fill(table, cols, rows)
            fit_rows(table)
        cols, rows = rs.detection_table(ra)
        self.detection_heading.setText(
            f"Disease detection from the region's {rs.units(ra)[0]} (larger = diseased): AUC per reader "
            "and mode, and minus the AI's AUC on the same cases"
        )
        for w in (self.detection_heading, self.detection_table):
            w.setVisible(bool(rows))
        if rows:
            fill(self.detection_table, cols, rows)
            fit_rows(self.detection_table)
