"""ViewerWindow: a standalone window around one viewport (``readerstudy view``)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMainWindow, QWidget

from app.viewer.viewport import ViewportWidget
from study.media.types import Media


class ViewerWindow(QMainWindow):
    def __init__(self, media: Media, overlay: np.ndarray | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The title names what is shown, never the path: folders are often named after patients.
        shape = "x".join(str(s) for s in media.frames.shape[1:3])
        self.setWindowTitle(f"readerstudy view: {media.kind} {media.n_frames} x {shape}")
        self.viewport = ViewportWidget(self)
        self.viewport.set_media(media, overlay)
        self.setCentralWidget(self.viewport)
        self.viewport.setFocus()
        if self.viewport.settings_problem:  # a bad viewer.toml: say so, run with the defaults
            self.statusBar().showMessage(self.viewport.settings_problem)
        self.resize(720, 760)
