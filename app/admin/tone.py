"""One look for status messages: green for what worked, amber for what needs attention."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

SUCCESS, PROBLEM, NEUTRAL = "successLabel", "problemLabel", "hint"  # object names styled in resources/style.qss


def show_message(label: QLabel, text: str, ok: bool | None) -> None:
    """``text`` in the success colour when ``ok`` is True, the warning colour when False, grey when None."""
    label.setText(text)
    name = SUCCESS if ok else NEUTRAL if ok is None else PROBLEM
    if label.objectName() != name:
        label.setObjectName(name)
        label.style().unpolish(label)  # the stylesheet matches on the object name: re-apply it
        label.style().polish(label)
