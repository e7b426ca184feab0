"""The gallery strip of a specimen's fields under the triage viewer.

Bound to one ``GalleryState``.  One tile per field, in the state's order (aided:
ranked by the AI, with the score, an "AI pick" mark for the top-k and a CAM
toggle; unaided: stored order, the field number only).  A click on a tile emits
``field_clicked``; its CAM box emits ``cam_toggled``.  The screen does the rest.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPixmap
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.reading.triage_gallery_state import GalleryState
from app.reading.triage_thumbs import thumbnail, with_cam
from app.viewer.overlay import colormap
from study.media.types import Media

THUMB = 120  # pixels, longest side


def _pixmap(rgb: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class _TileFrame(QFrame):
    clicked = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)


class GalleryPanel(QFrame):
    field_clicked = Signal(int)  # field index (stored order)
    cam_toggled = Signal(int, bool)  # field index, CAM now on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryPanel")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(8, 6, 8, 6)
        self.row.setSpacing(8)
        self.state: GalleryState | None = None
        self.tiles: dict[int, _TileFrame] = {}  # field index -> tile
        self.captions: dict[int, QLabel] = {}
        self.images: dict[int, QLabel] = {}
        self.cam_boxes: dict[int, QCheckBox] = {}
        self._plain: dict[int, QPixmap] = {}
        self._cam: dict[int, QPixmap] = {}
        self._lut = colormap("jet").getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hide()

    def bind(self, state: GalleryState | None, fields: dict[int, Media], cams: dict[int, np.ndarray]) -> None:
        """Build the tiles for one specimen (None: no gallery, the strip hides)."""
        while self.row.count():
            w = self.row.takeAt(0).widget()
            if w is not None and w is not self.hint:
                w.deleteLater()
        self.tiles.clear()
        self.captions.clear()
        self.images.clear()
        self.cam_boxes.clear()
        self._plain.clear()
        self._cam.clear()
        self.state = state
        if state is None:
            self.hide()
            return
        for tile in state.tiles:
            media = fields[tile.field_index]
            thumb = thumbnail(media.frames[0], THUMB, media.window)
            self._plain[tile.field_index] = _pixmap(thumb)
            cam = cams.get(tile.field_index) if state.aided else None
            if cam is not None:
                self._cam[tile.field_index] = _pixmap(with_cam(thumb, cam, self._lut))
            self.row.addWidget(self._tile(tile.position, tile.field_index, tile.score, tile.pick, cam is not None))
        self.row.addWidget(self.hint, 1)
        self.hint.setText(
            f"Fields ranked by the AI \u00b7 \u2605 = AI pick (top {sum(t.pick for t in state.tiles)})"
            if state.aided
            else "Fields in stored order"
        )
        self.show()
        self.refresh()

    def _tile(self, position: int, field: int, score: float, pick: bool, has_cam: bool) -> _TileFrame:
        frame = _TileFrame()
        frame.setObjectName("galleryTile")
        frame.setCursor(Qt.CursorShape.PointingHandCursor)
        frame.setToolTip(f"Show field {position} full size (key {position})")
        col = QVBoxLayout(frame)
        col.setContentsMargins(4, 4, 4, 4)
        col.setSpacing(2)
        image = QLabel()
        image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image.setFixedSize(THUMB, THUMB)
        col.addWidget(image)
        text = f"{position}"
        if not math.isnan(score):
            text += f"  \u00b7  {score:.2f}"
        if pick:
            text += "  \u2605 AI pick"
        caption = QLabel(text)
        caption.setObjectName("galleryCaption")
        col.addWidget(caption)
        frame.clicked.connect(lambda f=field: self.field_clicked.emit(f))
        if has_cam:
            box = QCheckBox("CAM")
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box.toggled.connect(lambda on, f=field: self.cam_toggled.emit(f, on))
            col.addWidget(box)
            self.cam_boxes[field] = box
        self.tiles[field], self.captions[field], self.images[field] = frame, caption, image
        return frame

    def refresh(self) -> None:
        """Thumbnails with or without CAM, the shown field framed, the decisive one named."""
        s = self.state
        if s is None:
            return
        for field, frame in self.tiles.items():
            cam_on = s.cam_visible(field) and field in self._cam
            self.images[field].setPixmap(self._cam[field] if cam_on else self._plain[field])
            box = self.cam_boxes.get(field)
            if box is not None and box.isChecked() != cam_on:
                box.blockSignals(True)
                box.setChecked(cam_on)
                box.blockSignals(False)
            shown = field == s.shown
            if frame.property("shown") != shown:
                frame.setProperty("shown", shown)
                frame.setStyleSheet(
                    "QFrame#galleryTile { border: 2px solid palette(highlight); border-radius: 4px; }"
                    if shown
                    else "QFrame#galleryTile { border: 2px solid transparent; border-radius: 4px; }"
                )
            base = self.captions[field].text().split("  \u2714")[0]
            self.captions[field].setText(base + ("  \u2714 decisive" if field == s.decisive else ""))
