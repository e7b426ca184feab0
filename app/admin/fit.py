"""Text that never widens its window, and windows that stay within their screen.

A QLabel asks its layout for the width of its longest line; one long message (a file
path, a decoder's error) then sets the window's minimum width, pushes the buttons off
screen, and the window cannot be made narrow again while the text is shown.  Here a
one-line label elides instead (all of it in the tooltip), and longer text wraps in a
scroll area.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """One line that ends in "…" when the space is short; the tooltip then holds the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        # Ignored: the layout neither asks for the text's width nor keeps it as the minimum.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._sync_tooltip()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, super().minimumSizeHint().height())

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._sync_tooltip()

    def shown_text(self) -> str:
        """The text as drawn: elided to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.drawFrame(painter)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._sync_tooltip()

    def _sync_tooltip(self) -> None:
        self.setToolTip(self.text() if self.shown_text() != self.text() else "")


def scrolling_text(label: QLabel) -> QScrollArea:
    """``label`` wrapped to the width it is given, in a scroll area for what is taller than the space;
    selectable, so a researcher can copy a path or an error."""
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # Wrapping breaks at spaces; a path longer than the width still may not widen the window.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    area = QScrollArea()
    area.setWidget(label)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def keep_within_screen(window: QWidget) -> None:
    """At most the available area of the window's screen (taskbars excluded), and no larger now."""
    screen = window.screen()
    if screen is None:
        return
    room = screen.availableGeometry().size()
    window.setMaximumSize(room)
    if window.width() > room.width() or window.height() > room.height():
        window.resize(window.size().boundedTo(room))
