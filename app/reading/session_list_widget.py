"""The reader's sessions: state, progress, washout remaining; start or resume."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from app.reading.card import centred_card
from app.reading.session_list_state import SessionListState

AI_POLL_MS = 2000  # while AI outputs are being computed (a background precompute), look again this often


class SessionListWidget(QWidget):
    session_chosen = Signal(int)  # session index
    take_over_confirmed = Signal(int)  # session index, left open on a stopped workstation
    logged_out = Signal()

    def __init__(self, state: SessionListState, title: str, demo_dir: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionScreen")
        self.state = state
        self.card, col = centred_card(self, 560, grow=True)
        col.setSpacing(12)
        head = QHBoxLayout()
        self.heading = QLabel()
        self.heading.setObjectName("cardTitle")
        head.addWidget(self.heading)
        head.addStretch(1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("linkButton")
        self.refresh_button.setToolTip("Check again whether a session has opened (F5)")
        self.refresh_button.setShortcut("F5")
        self.refresh_button.clicked.connect(self.refresh)
        head.addWidget(self.refresh_button)
        self.logout_button = QPushButton("Sign out")
        self.logout_button.setObjectName("linkButton")
        self.logout_button.clicked.connect(self.logged_out)
        head.addWidget(self.logout_button)
        col.addLayout(head)
        study = QLabel(title)
        study.setObjectName("hint")
        study.setWordWrap(True)
        col.addWidget(study)
        self.rows_box = QWidget()
        self.grid = QGridLayout(self.rows_box)
        self.grid.setContentsMargins(0, 8, 0, 0)
        self.grid.setHorizontalSpacing(18)
        self.grid.setVerticalSpacing(10)
        col.addWidget(self.rows_box)
        self.message_label = QLabel()
        self.message_label.setObjectName("problemLabel")
        self.message_label.setWordWrap(True)
        col.addWidget(self.message_label)
        self.take_over_button = QPushButton("Take over here")
        self.take_over_button.setObjectName("barButton")
        self.take_over_button.setToolTip(
            "Move the session to this workstation; the take-over is recorded in the audit log"
        )
        self.take_over_button.clicked.connect(self.on_take_over_clicked)
        take_over_row = QHBoxLayout()
        take_over_row.addWidget(self.take_over_button)
        take_over_row.addStretch(1)
        col.addLayout(take_over_row)
        self.demo_dir = demo_dir
        self.demo_label = QLabel()
        self.demo_label.setObjectName("hint")
        self.demo_label.setTextFormat(Qt.TextFormat.RichText)
        self.demo_label.setWordWrap(True)
        self.demo_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.demo_label)
        self.start_buttons: dict[int, QPushButton] = {}
        self.ai_poll = QTimer(self)
        self.ai_poll.setInterval(AI_POLL_MS)
        self.ai_poll.timeout.connect(self.refresh)

    def on_take_over_clicked(self) -> None:
        index = self.state.stale_session
        self.state.stale_session = None
        if index is not None:
            self.take_over_confirmed.emit(index)

    def refresh(self) -> None:
        self.state.refresh()
        self.heading.setText(f"Sessions of {self.state.reader}")
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.start_buttons = {}
        for r, row in enumerate(self.state.rows):
            name = QLabel(row.title)
            name.setObjectName("sessionName")
            status = QLabel(row.status)
            status.setObjectName("sessionStatus")
            status.setProperty("locked", not row.can_start and not row.status.startswith("done"))
            self.grid.addWidget(name, r, 0)
            self.grid.addWidget(status, r, 1)
            if row.can_start:
                button = QPushButton(row.action)
                button.setObjectName("submitButton")
                button.clicked.connect(lambda _=False, i=row.index: self.session_chosen.emit(i))
                self.grid.addWidget(button, r, 2)
                self.start_buttons[row.index] = button
        self.grid.setColumnStretch(1, 1)
        if self.state.waiting_for_ai:
            self.ai_poll.start()
        else:
            self.ai_poll.stop()
        self.message_label.setText(self.state.message)
        self.message_label.setVisible(bool(self.state.message))
        self.take_over_button.setVisible(self.state.stale_session is not None)
        locked = [r for r in self.state.rows if r.status.startswith("opens on")]  # in its washout
        # Demo studies only: nobody waits four weeks to try the aided read.
        demo = bool(self.demo_dir and locked)
        command = html.escape(f"readerstudy override-washout {self.demo_dir} {self.state.reader} --reason demo")
        self.demo_label.setText(
            f"Demo study: to open session {locked[0].index} now, run<br>"
            f"<span style='font-family: monospace; color: #c9d1d9'>{command}</span><br>"
            "then press Refresh."
            if demo
            else ""
        )
        self.demo_label.setVisible(demo)
        if self.start_buttons:
            first = next(iter(self.start_buttons.values()))
            first.setDefault(True)
            first.setFocus()
