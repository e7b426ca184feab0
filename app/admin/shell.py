"""The admin window's pages: login -> admin screens, or the wizard for a new study."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from app.admin.admin_widget import AdminWidget
from app.admin.fit import keep_within_screen
from app.admin.login_state import AdminLoginState
from app.admin.login_widget import AdminLoginPanel
from app.admin.wizard_state import WizardState
from app.admin.wizard_widget import StudyWizardWidget
from study.errors import StudyError


class AdminShellWidget(QStackedWidget):
    study_opened = Signal(Path)  # after login, or after the wizard created the study

    def __init__(self, study_dir: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("readerstudy: study administration")
        self.admin: AdminWidget | None = None
        self.login: AdminLoginPanel | None = None
        self.wizard: StudyWizardWidget | None = None
        self.error_label: QLabel | None = None
        self._follows_screen = False
        if study_dir is not None and (Path(study_dir) / "study.toml").is_file():
            try:
                self.login = AdminLoginPanel(AdminLoginState(Path(study_dir)))
            except StudyError as err:
                self.show_problems(err)
                return
            self.login.logged_in.connect(lambda: self.on_admin_ready(Path(study_dir)))
            self.addWidget(self.login)
        else:
            self.wizard = StudyWizardWidget(WizardState(Path(study_dir) if study_dir else None))
            self.wizard.study_created.connect(self.on_admin_ready)  # its creator just set the password
            self.addWidget(self.wizard)
        self.resize(1440, 900)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        keep_within_screen(self)
        handle = self.windowHandle()
        if handle is not None and not self._follows_screen:  # moved to another monitor: that screen's room
            handle.screenChanged.connect(self.on_screen_changed)
            self._follows_screen = True

    def on_screen_changed(self, _screen) -> None:  # type: ignore[no-untyped-def]
        keep_within_screen(self)

    def on_admin_ready(self, study_dir: Path) -> None:
        try:
            self.admin = AdminWidget(study_dir)
        except StudyError as err:
            self.show_problems(err)
            return
        self.addWidget(self.admin)
        self.setCurrentWidget(self.admin)
        self.setWindowTitle(f"readerstudy: administration \u2013 {self.admin.engine.protocol.title}")
        self.study_opened.emit(Path(study_dir))

    def show_problems(self, err: StudyError) -> None:
        """A study that cannot be opened: every problem, one per line, instead of a crash."""
        self.error_label = QLabel("This study cannot be opened:\n\n" + "\n".join(err.problems))
        self.error_label.setObjectName("problemLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setMargin(24)
        self.addWidget(self.error_label)
        self.setCurrentWidget(self.error_label)
