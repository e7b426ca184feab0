"""Admin login: the study's admin password (five wrong ones lock the admin out for five minutes)."""

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
        self.login_button = QPushButton("Open")
        self.login_button.setObjectName("submitButton")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self.on_login_clicked)
        self.password_edit.returnPressed.connect(self.on_login_clicked)
        self.hint_label = QLabel(state.hint)
        self.hint_label.setObjectName("hint")
        self.hint_label.setVisible(bool(state.hint))
        self.message_label = QLabel()
        self.message_label.setObjectName("problemLabel")
        self.message_label.setWordWrap(True)
        form = QFormLayout()
        self.password_label = QLabel("Admin password")
        form.addRow(self.password_label, self.password_edit)
        for w in (self.heading, self.study_label, self.explain):
            col.addWidget(w)
        col.addLayout(form)
        col.addWidget(self.login_button, 0, Qt.AlignmentFlag.AlignRight)
        col.addWidget(self.message_label)
        col.addWidget(self.hint_label)
        self.show_state()

    def show_state(self) -> None:
        usable = self.state.can_log_in
        # A study that cannot be logged in to (no admin password yet, store missing) says why, and
        # offers no field to type into.
        self.explain.setText(
            "Enter the study's admin password. Readers cannot open these screens." if usable else self.state.message
        )
        for w in (self.password_edit, self.password_label, self.login_button):
            w.setVisible(usable)
        shown = self.state.message if usable else ""
        self.message_label.setText(shown)
        self.message_label.setVisible(bool(shown))

    def on_login_clicked(self) -> None:
        ok = self.state.log_in(self.password_edit.text())
        self.password_edit.clear()
        self.show_state()
        if ok:
            self.logged_in.emit()
