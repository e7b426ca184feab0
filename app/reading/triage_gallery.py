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
from app.reading.triage_thumbs import THUMB

MAX_TILES = 9  # digits 1-9


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
        # The shown tile is framed through a dynamic property: no per-switch stylesheet parsing.
        self.setStyleSheet(
            "QFrame#galleryTile { border: 2px solid transparent; border-radius: 4px; }"
            'QFrame#galleryTile[shown="true"] { border: 2px solid palette(highlight); }'
        )
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(8, 6, 8, 6)
        self.row.setSpacing(8)
        self.state: GalleryState | None = None
        # A pool of tiles built once and reused for every specimen (slot k shows gallery position k + 1).
        self._slots: list[tuple[_TileFrame, QLabel, QLabel, QCheckBox]] = []
        self.tiles: dict[int, _TileFrame] = {}  # field index -> tile
        self.captions: dict[int, QLabel] = {}
        self.images: dict[int, QLabel] = {}
        self.cam_boxes: dict[int, QCheckBox] = {}
        self._field_of_slot: list[int] = []
        self._texts: dict[int, str] = {}
        self._plain: dict[int, QPixmap] = {}
        self._cam: dict[int, QPixmap] = {}
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        for k in range(MAX_TILES):
            self._slots.append(self._make_slot(k))
            self.row.addWidget(self._slots[-1][0])
            self._slots[-1][0].hide()
        self.row.addWidget(self.hint, 1)
        self.hide()

    def _make_slot(self, k: int) -> tuple[_TileFrame, QLabel, QLabel, QCheckBox]:
        frame = _TileFrame()
        frame.setObjectName("galleryTile")
        frame.setCursor(Qt.CursorShape.PointingHandCursor)
        frame.setToolTip(f"Show field {k + 1} full size (key {k + 1})")
        col = QVBoxLayout(frame)
        col.setContentsMargins(4, 4, 4, 4)
        col.setSpacing(2)
        image = QLabel()
        image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image.setFixedSize(THUMB, THUMB)
        col.addWidget(image)
        caption = QLabel()
        caption.setObjectName("galleryCaption")
        col.addWidget(caption)
        box = QCheckBox()
        box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        col.addWidget(box)
        frame.clicked.connect(lambda k=k: self.on_slot_clicked(k))
        box.toggled.connect(lambda on, k=k: self.on_slot_cam_toggled(k, on))
        return frame, image, caption, box

    def on_slot_clicked(self, k: int) -> None:
        if k < len(self._field_of_slot):
            self.field_clicked.emit(self._field_of_slot[k])

    def on_slot_cam_toggled(self, k: int, on: bool) -> None:
        if k < len(self._field_of_slot):
            self.cam_toggled.emit(self._field_of_slot[k], on)

    def bind(self, state: GalleryState | None, thumbs: dict[int, tuple[np.ndarray, np.ndarray | None]]) -> None:
        """Show the tiles of one specimen (None: no gallery, the strip hides).

        ``thumbs``: field index -> (plain, with CAM or None) thumbnails (``prefetch.specimen_thumbs``);
        the CAM ones are used only in the aided form."""
        self.state = state
        self.tiles.clear()
        self.captions.clear()
        self.images.clear()
        self.cam_boxes.clear()
        self._plain.clear()
        self._cam.clear()
        self._texts.clear()
        self._field_of_slot = []
        if state is None:
            self.hide()
            return
        shown_tiles = state.tiles[:MAX_TILES]
        for k, (frame, image, caption, box) in enumerate(self._slots):
            if k >= len(shown_tiles):
                frame.hide()
                continue
            tile = shown_tiles[k]
            field = tile.field_index
            plain, cam = thumbs[field]
            self._plain[field] = _pixmap(plain)
            if state.aided and cam is not None:
                self._cam[field] = _pixmap(cam)
            text = f"{tile.position}"
            if not math.isnan(tile.score):
                text += f"  \u00b7  {tile.score:.2f}"
            if tile.pick:
                text += "  \u2605 AI pick"
            self._texts[field] = text
            self._field_of_slot.append(field)
            self.tiles[field], self.images[field], self.captions[field] = frame, image, caption
            # No CAM word anywhere in an unaided gallery, not even on a hidden box.
            box.setText("CAM" if field in self._cam else "")
            box.setVisible(field in self._cam)
            if field in self._cam:
                self.cam_boxes[field] = box
            frame.show()
        self.hint.setText(
            f"Fields ranked by the AI \u00b7 \u2605 = AI pick (top {sum(t.pick for t in state.tiles)})"
            if state.aided
            else "Fields in stored order"
        )
        self.show()
        self.refresh()

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
                frame.style().unpolish(frame)
                frame.style().polish(frame)
            text = self._texts[field] + ("  \u2714 decisive" if field == s.decisive else "")
            if self.captions[field].text() != text:
                self.captions[field].setText(text)
