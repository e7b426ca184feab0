"""The application's look: Fusion style, a dark reading-room palette, resources/style.qss."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from app.workers import collect_garbage_on_gui_thread

STYLESHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"

# Dark greys, not black: a reading room is dim, and pure black around an image
# makes its greys look lighter than they are.
COLORS = {
    QPalette.ColorRole.Window: "#1b1e23",
    QPalette.ColorRole.WindowText: "#d7dce2",
    QPalette.ColorRole.Base: "#14161a",
    QPalette.ColorRole.AlternateBase: "#20242a",
    QPalette.ColorRole.Text: "#d7dce2",
    QPalette.ColorRole.Button: "#2a2f36",
    QPalette.ColorRole.ButtonText: "#d7dce2",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#2a2f36",
    QPalette.ColorRole.ToolTipText: "#e8ecf0",
    QPalette.ColorRole.PlaceholderText: "#7b8490",
}


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in COLORS.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b737d"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#6b737d"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b737d"))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(max(font.pointSizeF(), 10.5))
    app.setFont(font)
    if STYLESHEET.is_file():
        app.setStyleSheet(STYLESHEET.read_text(encoding="utf-8"))


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication, themed (tests already have one from pytest-qt)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("readerstudy")
        app.setOrganizationName("readerstudy")
        apply_theme(app)
    collect_garbage_on_gui_thread()
    return app  # type: ignore[return-value]
