"""Asked when the reader opens a session that is open, and alive, in another window of this
workstation (``study.engine.OpenInAnotherWindow``): take it over here, or cancel.

Nothing has changed when it shows: the other window holds the session until the reader
chooses "Take over here"; Cancel leaves it there.  Taking over stops the other window at
its next action; what was entered there but not submitted is not saved (it stays on that
window's screen, and the case stays unanswered).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from study.engine import LeaseHolder


def ago(then: datetime | None, now: datetime) -> str:
    """``09:14:05 UTC (2 min ago)``; "unknown" for a time not recorded (a lease of an older version)."""
    if then is None:
        return "unknown"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 90:
        span = f"{seconds} s ago"
    elif seconds < 90 * 60:
        span = f"{round(seconds / 60)} min ago"
    else:
        span = f"{seconds / 3600:.1f} h ago"
    day = "" if then.date() == now.date() else f"{then:%Y-%m-%d} "
    return f"{day}{then:%H:%M:%S} UTC ({span})"


class TakeOverDialog(QDialog):
    """``accepted``: the reader chose to take the session over; ``rejected``: it stays there."""

    def __init__(self, session_title: str, holder: LeaseHolder, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("takeOverDialog")
        self.setWindowTitle("Session open in another window")
        self.setModal(True)
        col = QVBoxLayout(self)
        col.setContentsMargins(22, 18, 22, 16)
        col.setSpacing(12)
        heading = QLabel(f"{session_title} is open in another window")
        heading.setObjectName("cardTitle")
        heading.setWordWrap(True)
        col.addWidget(heading)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.facts: dict[str, QLabel] = {}
        rows = (
            ("Workstation", holder.workstation),
            ("Open there since", ago(holder.opened_at, now)),
            ("Last heartbeat", ago(holder.last_heartbeat, now)),
        )
        for r, (name, value) in enumerate(rows):
            key = QLabel(name)
            key.setObjectName("hint")
            fact = QLabel(value)
            fact.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(key, r, 0)
            grid.addWidget(fact, r, 1)
            self.facts[name] = fact
        col.addLayout(grid)
        self.explanation = QLabel(
            "That window still sends heartbeats, so it is probably still open (perhaps behind this one "
            "or on another screen). Go back to it, or take the session over here.\n\n"
            "Taking over stops the other window: your submitted answers are all kept; an answer "
            "entered there but not submitted is not saved (it stays on that screen and the case "
            "stays unanswered, to be read here). The take-over is recorded in the audit log."
        )
        self.explanation.setWordWrap(True)
        self.explanation.setMinimumWidth(460)
        col.addWidget(self.explanation)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.take_over_button = QPushButton("Take over here")
        self.take_over_button.setObjectName("submitButton")
        self.take_over_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("barButton")
        # Cancel is the default: Enter must not stop a window the reader may be working in.
        self.cancel_button.setDefault(True)
        self.take_over_button.clicked.connect(self.accept)
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.take_over_button)
        col.addLayout(buttons)
        self.cancel_button.setFocus()
