"""After the last case: cases read and time taken (accuracy only with feedback)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from app.reading.card import centred_card
from app.reading.reading_state import Summary, format_duration


class SummaryWidget(QWidget):
    back_requested = Signal()

    def __init__(self, summary: Summary, session_name: str, feedback: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryScreen")
        _, col = centred_card(self, 420)
        name = (
            session_name.capitalize()
            if session_name.startswith("session")
            else f"{session_name.capitalize()} session".strip()
        )
        heading = QLabel(f"{name} complete" if summary.done >= summary.total else f"{name} paused")
        heading.setObjectName("cardTitle")
        col.addWidget(heading)
        lines = [
            f"Cases read: {summary.cases_read} (this sitting)",
            f"Reading time: {format_duration(summary.active_ms)}",
            f"Session: {summary.done} of {summary.total} done",
        ]
        if summary.cases_read:
            lines.insert(2, f"Mean per case: {summary.active_ms / summary.cases_read / 1000:.1f} s")
        if summary.skipped:
            lines.append(f"Skipped (could not be opened): {summary.skipped}")
        if feedback:
            lines.append(feedback)
        self.lines_label = QLabel("\n".join(lines))
        self.lines_label.setObjectName("summaryLines")
        col.addWidget(self.lines_label)
        thanks = QLabel("Thank you. Your answers are saved.")
        thanks.setObjectName("hint")
        col.addWidget(thanks)
        self.back_button = QPushButton("Back to sessions")
        self.back_button.setObjectName("submitButton")
        self.back_button.setDefault(True)
        self.back_button.clicked.connect(self.back_requested)
        col.addWidget(self.back_button)
