"""WsiViewerWindow: a standalone window around one WsiViewerWidget (``readerstudy view SLIDE``)."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QWidget

from app.viewer.wsi_view import WsiViewerWidget
from study.wsi_scores import SlideScores


class WsiViewerWindow(QMainWindow):
    """Opens ``path`` (MediaError if it is not a readable slide) with optional AI scores."""

    def __init__(self, path: str, scores: SlideScores | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = WsiViewerWidget(self)
        self.setCentralWidget(self.viewer)
        self.resize(1100, 760)
        self.viewer.set_slide(path, scores)
        w, h = self.viewer.slide.info.dimensions
        # The title names what is shown, never the path: file names often carry patient names.
        self.setWindowTitle(
            f"readerstudy view: whole-slide image {w} x {h}, {self.viewer.slide.info.level_count} levels"
        )
        self.viewer.setFocus()

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self.viewer.clear()
        super().closeEvent(event)
