"""The admin window's pages: login -> admin screens, or the wizard for a new study."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QStackedWidget, QWidget

from app.admin.admin_widget import AdminWidget
from app.admin.login_state import AdminLoginState
from app.admin.login_widget import AdminLoginPanel
from app.admin.wizard_state import WizardState
from app.admin.wizard_widget import StudyWizardWidget


class AdminShellWidget(QStackedWidget):
    def __init__(self, study_dir: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("readerstudy: study administration")
        self.admin: AdminWidget | None = None
        self.login: AdminLoginPanel | None = None
        self.wizard: StudyWizardWidget | None = None
        if study_dir is not None and (Path(study_dir) / "study.toml").is_file():
            self.login = AdminLoginPanel(AdminLoginState(Path(study_dir)))
            self.login.logged_in.connect(lambda: self.on_admin_ready(Path(study_dir)))
            self.addWidget(self.login)
        else:
            self.wizard = StudyWizardWidget(WizardState(Path(study_dir) if study_dir else None))
            self.wizard.study_created.connect(self.on_admin_ready)  # its creator just set the password
            self.addWidget(self.wizard)

    def on_admin_ready(self, study_dir: Path) -> None:
        self.admin = AdminWidget(study_dir)
        self.addWidget(self.admin)
        self.setCurrentWidget(self.admin)
