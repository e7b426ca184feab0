"""The admin screens of one study after login: readers & progress, model, results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.admin.dashboard_state import DashboardState
from app.admin.dashboard_widget import DashboardWidget
from app.admin.model_state import ModelState
from app.admin.model_widget import ModelPanel
from app.admin.readers_state import ReadersState
from app.admin.readers_widget import ReadersPanel
from study.engine import StudyEngine
from study.intake.build import IDENTIFYING


class AdminWidget(QWidget):
    """Owns the study's engine (closed with the widget); each tab binds to its own state object."""

    def __init__(self, study_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = StudyEngine.open(study_dir)
        p = self.engine.protocol
        title = QLabel(p.title)
        title.setObjectName("sectionLabel")
        title.setStyleSheet("font-size: 14pt;")
        title.setWordWrap(True)
        folder = QLabel(
            f"{p.design}"
            + (f", washout {p.washout_days} days" if p.design != "concurrent" else "")
            + f"  ·  {len(self.engine.cases)} cases  ·  task: {p.task.kind}  ·  {self.engine.study_dir}"
        )
        folder.setObjectName("hint")
        folder.setWordWrap(True)
        # A study from a DICOM export keeps its re-identification key in the folder: say so, every time.
        key = [name for name in IDENTIFYING if (Path(study_dir) / name).exists()]
        self.identifying_label = QLabel(
            f"Identifying: {', '.join(key)} (the re-identification key): keep them with the study's "
            "custodian and remove them before this folder is shared."
            if key
            else ""
        )
        self.identifying_label.setObjectName("problemLabel")
        self.identifying_label.setWordWrap(True)
        self.identifying_label.setVisible(bool(key))
        self.readers = ReadersPanel(ReadersState(self.engine))
        self.model = ModelPanel(ModelState(self.engine))
        self.dashboard = DashboardWidget(DashboardState(self.engine.study_dir, title=p.title, kind=p.task.kind))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.readers, "Readers and progress")
        self.tabs.addTab(self.model, "Model and precompute")
        self.tabs.addTab(self.dashboard, "Results")
        self.tabs.currentChanged.connect(self.on_tab_changed)
        col = QVBoxLayout(self)
        col.addWidget(title)
        col.addWidget(folder)
        col.addWidget(self.identifying_label)
        col.addWidget(self.tabs, 1)
        self.destroyed.connect(self.engine.close)

    def on_tab_changed(self, index: int) -> None:
        # The first visit to Results analyses the store; later visits keep what is shown.
        if self.tabs.widget(index) is self.dashboard and self.dashboard.state.analysis is None:
            self.dashboard.on_refresh_clicked()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.readers.timer.stop()
        self.dashboard.timer.stop()
        if self.model.worker is not None and self.model.state.running:
            self.model.worker.cancel()  # stops after the current case; finished cases are stored
        super().closeEvent(event)
