"""The results dashboard: paper table, MRMC sentences, ROC, forest, switching, reading time, export;
for multiclass, numeric and grade-distribution studies the task panel instead, for region studies
the region panel (the binary sections are then not shown at all)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.admin import dashboard_state as ds
from app.admin.dashboard_plots import ForestPlotWidget, RocPlotWidget
from app.admin.region_dashboard_widget import RegionResultsPanel
from app.admin.region_results_state import RegionAnalysis
from app.admin.tables import FittedPaneWidget, fill, fit_height, readonly_table
from app.admin.task_dashboard_widget import TaskResultsPanel
from app.admin.tone import show_message
from app.workers import Worker, create_worker

REFRESH_MS = 30_000


def default_export_dir(study_dir: Path | None) -> Path:
    """Where the export dialog starts: the study's ``export`` folder, made now so the dialog's
    prefilled choice is a folder that exists (else Qt answers "Directory not found")."""
    if study_dir is None:
        return Path.home()
    folder = Path(study_dir) / "export"
    folder.mkdir(exist_ok=True)
    return folder


class DashboardWidget(QWidget):
    analysis_shown = Signal()
    exported = Signal(object)  # {file name: path}
    failed = Signal(str)

    def __init__(self, state: ds.DashboardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker: Worker | None = None

        self.refresh_button = QPushButton("Refresh from study")
        self.refresh_button.setEnabled(state.study_dir is not None)
        self.refresh_button.clicked.connect(self.on_refresh_clicked)
        self.auto_box = QCheckBox("auto-refresh every 30 s")
        self.auto_box.setEnabled(state.study_dir is not None)
        self.auto_box.toggled.connect(self.on_auto_toggled)
        self.csv_button = QPushButton("Open reads CSV…")
        self.csv_button.clicked.connect(self.on_open_csv_clicked)
        self.export_button = QPushButton("Export report…")
        self.export_button.setObjectName("submitButton")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.on_export_clicked)
        bar = QHBoxLayout()
        for w in (self.refresh_button, self.auto_box, self.csv_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.export_button)

        self.status_label = QLabel("No analysis yet: refresh from the study or open a reads CSV.")
        self.status_label.setObjectName("hint")
        self.status_label.setWordWrap(True)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.mrmc_labels = {fom: QLabel() for fom in ds.FOM_NAMES}
        for label in self.mrmc_labels.values():
            label.setObjectName("mrmcSentence")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.paper_table = readonly_table()

        top = QWidget()
        tcol = QVBoxLayout(top)
        tcol.setContentsMargins(0, 0, 0, 0)
        tcol.addWidget(self.summary_label)
        heading = QLabel("MRMC (Obuchowski–Rockette, Hillis df; random readers and cases)")
        heading.setObjectName("sectionLabel")
        tcol.addWidget(heading)
        for label in self.mrmc_labels.values():
            tcol.addWidget(label)
        heading2 = QLabel("Per group, % (95% CI) — unaided and aided side by side")
        heading2.setObjectName("sectionLabel")
        tcol.addWidget(heading2)
        tcol.addWidget(self.paper_table)
        tcol.addStretch(1)

        self.roc_plot = RocPlotWidget()
        self.forest_plot = ForestPlotWidget()
        self.switching_table = readonly_table()
        self.time_table = readonly_table()
        for t in (self.switching_table, self.time_table):
            t.verticalHeader().setVisible(False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.roc_plot, "ROC")
        self.tabs.addTab(self.forest_plot, "Forest plot")
        self.tabs.addTab(self.switching_table, "Switching")
        self.tabs.addTab(self.time_table, "Reading time")

        split = QSplitter(Qt.Orientation.Vertical)
        self.top_pane = FittedPaneWidget(top)
        split.addWidget(self.top_pane)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)

        # Binary studies: the paper's table and plots; region and the other task kinds: their own panel.
        self.task_panel = TaskResultsPanel()
        self.region_panel = RegionResultsPanel()
        self.pages = QStackedWidget()
        self.pages.addWidget(split)
        self.pages.addWidget(self.task_panel)
        self.pages.addWidget(self.region_panel)
        self.binary_page = split
        if state.kind == "region":  # never the empty MRMC headings and ROC axes, even before the first analysis
            self.pages.setCurrentWidget(self.region_panel)

        col = QVBoxLayout(self)
        col.addLayout(bar)
        col.addWidget(self.status_label)
        col.addWidget(self.pages, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.on_refresh_clicked)

    # -- sources --------------------------------------------------------------
    def on_refresh_clicked(self) -> None:
        if self.state.study_dir is not None:
            self._run("Analysing the study's reads…", ds.analyze_store, self.state.study_dir)

    def on_auto_toggled(self, on: bool) -> None:
        self.timer.start() if on else self.timer.stop()

    def on_open_csv_clicked(self) -> None:
        reads, _ = QFileDialog.getOpenFileName(self, "Reads CSV", "", "CSV (*.csv)")
        if not reads:
            return
        ai, _ = QFileDialog.getOpenFileName(
            self, "AI outputs CSV (optional: cancel for none)", str(Path(reads).parent), "CSV (*.csv)"
        )
        self.load_csv(Path(reads), Path(ai) if ai else None)

    def load_csv(self, reads: Path, ai: Path | None = None) -> None:
        self._run(f"Analysing {reads.name}…", ds.analyze_csv, reads, ai)

    def load_frames(self, reads: pd.DataFrame, ai: pd.DataFrame | None, source: str = "reads") -> None:
        self._run("Analysing…", ds.analyze_frames, reads, ai, source)

    def _run(self, what: str, fn, *args) -> None:
        if self.state.busy:
            return
        self.state.on_started(what)
        self._show_status()
        self.worker = create_worker(
            fn, *args, _connect={"result_ready": self.on_analysis_ready, "errored": self.on_worker_failed}
        )
        self.worker.start()

    # -- results --------------------------------------------------------------
    def on_analysis_ready(self, analysis: ds.Analysis | ds.TaskAnalysis | RegionAnalysis) -> None:
        self.state.on_analysis(analysis)
        self.show_analysis()
        self.analysis_shown.emit()

    def on_worker_failed(self, exc: BaseException) -> None:
        self.state.on_failed(exc)
        self._show_status()
        self.failed.emit(self.state.message)

    def show_analysis(self) -> None:
        a = self.state.analysis
        self._show_status()
        if a is None:
            return
        if isinstance(a, ds.TaskAnalysis):
            self.pages.setCurrentWidget(self.task_panel)
            self.task_panel.show_analysis(a)
            return
        if isinstance(a, RegionAnalysis):
            self.pages.setCurrentWidget(self.region_panel)
            self.region_panel.show_analysis(a)
            return
        self.pages.setCurrentWidget(self.binary_page)
        r = a.result
        self.export_button.setEnabled(True)
        self.summary_label.setText(ds.summary_text(r))
        for fom, label in self.mrmc_labels.items():
            label.setText(ds.mrmc_sentence(r, fom))
        cols, rows, cells = ds.paper_view(r)
        fill(self.paper_table, cols, cells, row_labels=rows)
        self.paper_table.resizeRowsToContents()  # every cell has its n on a third line
        fit_height(self.paper_table)
        curves, ai_curve = ds.roc_series(a)
        self.roc_plot.show_roc(curves, ai_curve, ds.operating_points(r), r["readers_order"], r["modalities"])
        self.forest_plot.show_rows(ds.forest_rows(r), r["modalities"])
        fill(
            self.switching_table,
            ["Readers", "AI", *ds.SWITCH_COLUMNS],
            ds.switching_rows(r) or [["(needs AI outputs and two modalities)", "", "", "", "", "", ""]],
        )
        fill(self.time_table, *ds.time_rows(r))
        for t in (self.switching_table, self.time_table):
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def _show_status(self) -> None:
        show_message(self.status_label, self.state.message, self.state.message_ok)
        self.refresh_button.setEnabled(self.state.study_dir is not None and not self.state.busy)
        self.csv_button.setEnabled(not self.state.busy)
        self.export_button.setEnabled(self.state.analysis is not None and not self.state.busy)

    # -- export -----------------------------------------------------------------
    def on_export_clicked(self) -> None:
        start = str(default_export_dir(self.state.study_dir))
        folder = QFileDialog.getExistingDirectory(self, "Export folder", start)
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        if self.state.analysis is None or self.state.busy:
            return
        self.state.on_started(f"Writing the report to {folder}…")
        self._show_status()
        self.worker = create_worker(
            ds.export_report,
            self.state.analysis,
            folder,
            self.state.title,
            self.state.study_dir,
            _connect={"result_ready": self.on_export_done, "errored": self.on_worker_failed},
        )
        self.worker.start()

    def on_export_done(self, paths: dict) -> None:
        self.state.on_exported(paths)
        self._show_status()
        self.exported.emit(paths)
