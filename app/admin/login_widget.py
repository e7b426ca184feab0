"""Admin login: the study's admin password (or, for a study made by the CLI, setting it once)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.admin.login_state import AdminLoginState
from app.reading.card import centred_card


class AdminLoginPanel(QWidget):
    logged_in = Signal()

    def __init__(self, state: AdminLoginState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        # centred_card, not an aligned frame: wrapped labels keep their height (see its doc)
        _, col = centred_card(self, 500, (28, 24, 28, 24))
        col.setSpacing(12)
        self.heading = QLabel("Study administration")
        self.heading.setObjectName("cardTitle")
        self.study_label = QLabel(state.title)
        self.study_label.setObjectName("hint")
        self.study_label.setWordWrap(True)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        for edit in (self.password_edit, self.confirm_edit):
            edit.setMinimumHeight(32)
        self.confirm_label = QLabel("Repeat")
        self.login_button = QPushButton()
        self.login_button.setObjectName("submitButton")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self.on_login_clicked)
        self.password_edit.returnPressed.connect(self.on_login_clicked)
        self.confirm_edit.returnPressed.connect(self.on_login_clicked)
        self.hint_label = QLabel(state.hint)
        self.hint_label.setObjectName("hint")
        self.hint_label.setVisible(bool(state.hint))
        self.message_label = QLabel()
        self.message_label.setObjectName("problemLabel")
        self.message_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Admin password", self.password_edit)
        form.addRow(self.confirm_label, self.confirm_edit)
        for w in (self.heading, self.study_label, self.explain):
            col.addWidget(w)
        col.addLayout(form)
        col.addWidget(self.login_button, 0, Qt.AlignmentFlag.AlignRight)
        col.addWidget(self.message_label)
        col.addWidget(self.hint_label)
        self.show_state()

    def show_state(self) -> None:
        first = self.state.needs_password
        self.explain.setText("This study has no admin password yet (it was made on the command line). "
                             "Choose one now; it protects the readers, model and results screens."
                             if first else "Enter the study's admin password. Readers cannot open these screens.")
        self.confirm_label.setVisible(first)
        self.confirm_edit.setVisible(first)
        self.login_button.setText("Set password and open" if first else "Open")
        self.message_label.setText(self.state.message)
        self.message_label.setVisible(bool(self.state.message))

    def on_login_clicked(self) -> None:
        ok = self.state.log_in(self.password_edit.text(), self.confirm_edit.text())
        self.password_edit.clear()
        self.confirm_edit.clear()
        self.show_state()
        if ok:
            self.logged_in.emit()
