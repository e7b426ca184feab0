"""Reader login: code + PIN.  No list of readers is ever shown."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget

from app.reading.card import centred_card
from app.reading.login_state import LoginState


class LoginWidget(QWidget):
    logged_in = Signal(str)  # reader code
    admin_requested = Signal()  # the researcher's entry: the study's admin login

    def __init__(self, state: LoginState, title: str, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginScreen")
        self.state = state
        _, col = centred_card(self, 380, (28, 26, 28, 26))
        heading = QLabel("Reader sign-in")
        heading.setObjectName("cardTitle")
        study = QLabel(title)
        study.setObjectName("hint")
        study.setWordWrap(True)
        self.code_field = QLineEdit()
        self.code_field.setPlaceholderText("Reader code")
        self.code_field.setObjectName("codeField")
        self.pin_field = QLineEdit()
        self.pin_field.setPlaceholderText("PIN")
        self.pin_field.setObjectName("pinField")
        self.pin_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.message_label = QLabel()
        self.message_label.setObjectName("problemLabel")
        self.message_label.setWordWrap(True)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("submitButton")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setMinimumHeight(40)
        for w in (heading, study):
            col.addWidget(w)
        col.addSpacing(8)
        for w in (self.code_field, self.pin_field, self.message_label, self.sign_in_button):
            col.addWidget(w)
        if hint:  # only for the synthetic demo studies: real studies never hint at readers
            hint_label = QLabel(hint)
            hint_label.setObjectName("hint")
            hint_label.setWordWrap(True)
            col.addWidget(hint_label)
        self.admin_button = QPushButton("Study administration\u2026")
        self.admin_button.setObjectName("linkButton")
        self.admin_button.setToolTip("For the researcher who runs the study (admin password)")
        self.admin_button.clicked.connect(self.admin_requested)
        col.addWidget(self.admin_button)
        self.code_field.returnPressed.connect(self.pin_field.setFocus)
        self.pin_field.returnPressed.connect(self.on_sign_in)
        self.sign_in_button.clicked.connect(self.on_sign_in)
        self.lock_timer = QTimer(self)  # counts a locked reader code down, once a second
        self.lock_timer.setInterval(1000)
        self.lock_timer.timeout.connect(self.refresh)
        self.refresh()

    def on_sign_in(self) -> None:
        reader = self.state.login(self.code_field.text(), self.pin_field.text())
        self.pin_field.clear()  # a PIN never stays in a widget
        self.refresh()
        if reader is None:
            self.pin_field.setFocus()
        else:
            self.code_field.clear()
            self.logged_in.emit(reader)

    def reset(self) -> None:
        self.state.logout()
        self.code_field.clear()
        self.pin_field.clear()
        self.refresh()
        self.code_field.setFocus()

    def refresh(self) -> None:
        self.message_label.setText(self.state.message)
        self.message_label.setVisible(bool(self.state.message))
        if self.state.locked:
            self.lock_timer.start()
        else:
            self.lock_timer.stop()
