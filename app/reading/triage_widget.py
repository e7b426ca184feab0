"""The triage screen: the reading screen plus the queue of slides on the left.

Bound to one TriageState.  Keys 1..n (or a click on a class) answer the open
slide at once (one submit per slide) and open the next one.  In the aided
form the queue is ranked by the AI and shows its class and probability; in
the unaided form it shows no AI at all.  Clicking a reviewed slide reopens it
for a correction: pick the class, give a reason, Enter saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.reading.card import side_panel
from app.reading.keys_dialog import KeysDialog
from app.reading.prefetch import LoadedCase, MediaPrefetcher, field_count, specimen_thumbs
from app.reading.reading_widget import KEY_NAMES, ReadingWidget, default_viewer
from app.reading.triage_gallery import GalleryPanel
from app.reading.triage_queue import TriageQueueModel
from app.reading.triage_state import TriageState
from study.aioutput import field_cam_key
from study.engine import SessionMoved

ALL = "All AI classes"
COLUMN_WIDTHS = {"#": 40, "Answer": 72}


class TriageWidget(ReadingWidget):
    def __init__(
        self,
        triage: TriageState,
        prefetcher: MediaPrefetcher,
        *,
        title: str = "",
        viewer_factory: Callable[[bool], QWidget] = default_viewer,
        parent: QWidget | None = None,
    ) -> None:
        self.triage = triage
        super().__init__(triage.reading, prefetcher, title=title, viewer_factory=viewer_factory, parent=parent)
        self.setObjectName("triageScreen")
        queue, col = side_panel("queuePanel", 340, (12, 12), 8)
        self.queue_title = QLabel()
        self.queue_title.setObjectName("panelTitle")
        col.addWidget(self.queue_title)
        self.remaining_label = QLabel()
        self.remaining_label.setObjectName("hint")
        col.addWidget(self.remaining_label)
        self.filter_box = QComboBox()
        self.filter_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.filter_box.currentTextChanged.connect(self.on_filter_changed)
        col.addWidget(self.filter_box)
        self.queue_model = TriageQueueModel(triage, self.palette())
        self.table = QTableView()
        self.table.setObjectName("triageQueue")
        self.table.setModel(self.queue_model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.clicked.connect(self.on_row_clicked)
        col.addWidget(self.table, 1)
        self.body.insertWidget(0, queue)

        # A specimen's fields: a gallery strip under the viewer (hidden for a single image).
        at = self.body.indexOf(self.centre)
        self.body.removeWidget(self.centre)
        middle = QWidget()
        stack = QVBoxLayout(middle)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(0)
        stack.addWidget(self.centre, 1)
        self.gallery_panel = GalleryPanel()
        self.gallery_panel.field_clicked.connect(self.on_field_clicked)
        self.gallery_panel.cam_toggled.connect(self.on_field_cam_toggled)
        stack.addWidget(self.gallery_panel)
        self.body.insertWidget(at, middle, 1)
        self._gallery_role = ""
        self._fields: dict = {}  # field index -> Media of the open specimen
        self._field_cams: dict = {}  # field index -> (1, H, W) CAM (aided only)

        # A reviewed slide reopened: its earlier answer and the reason for the change.
        side = self.answer_panel.parentWidget().layout()
        at = side.indexOf(self.answer_panel)
        self.correction_label = QLabel()
        self.correction_label.setObjectName("hint")
        self.correction_label.setWordWrap(True)
        self.reason_field = QLineEdit()
        self.reason_field.setPlaceholderText("Reason for the correction")
        self.reason_field.returnPressed.connect(self.on_submit)
        side.insertWidget(at + 1, self.correction_label)
        side.insertWidget(at + 2, self.reason_field)
        self.submit_button.setText("Save correction   \u21b5")
        self.submit_button.setToolTip("Save the corrected answer with its reason (Enter)")
        self._form_aided: bool | None = None
        self.refresh()

    # -- flow -------------------------------------------------------------------
    def begin(self) -> None:
        self.triage.open_next()
        self.show_current()
        self.ticker.start()

    def next_to_prefetch(self):
        current = self.state.item
        for row in self.triage.visible_rows() + self.triage.rows:
            if not row.done and (current is None or row.case_id != current.case_id):
                return self.triage.reading.session.item(row.case_id)
        return None

    item_noun = "slide"

    # -- the specimen gallery ------------------------------------------------------
    def _specimen_role(self, loaded: LoadedCase) -> tuple[str, int]:
        for role in self.protocol.hanging.roles:
            n = field_count(loaded, role)
            if n > 1:
                return role, n
        return "", 0

    def _draw(self, loaded: LoadedCase) -> None:
        role, n = self._specimen_role(loaded) if not loaded.errors else ("", 0)
        if not n:
            self.triage.end_gallery()
            self.gallery_panel.bind(None, {})
            super()._draw(loaded)
            return
        state = self.state
        if loaded.ai_fetched:
            state.attach_ai(loaded.ai)
        gallery = self.triage.begin_gallery(n)
        assert gallery is not None and gallery.shown is not None
        ai = state.ai  # None in an unaided read, whatever was fetched
        self._gallery_role = role
        self._fields = {i: loaded.media[field_cam_key(role, i)] for i in range(n)}
        self._field_cams = {}
        if ai is not None:
            self._field_cams = {i: c for i in range(n) if (c := ai.field_cam(role, i)) is not None}
        first = gallery.shown
        media = dict(loaded.media)
        media[role] = self._fields[first]
        shown_ai = None
        if ai is not None:
            cams = {role: self._field_cams[first]} if first in self._field_cams else {}
            shown_ai = replace(ai, cams=cams)
        state.set_cam_visible(gallery.cam_visible(first))
        state.heat_field = first  # the field's own score decides its heat's strength
        self.gallery_panel.bind(gallery, loaded.thumbs or specimen_thumbs(loaded))
        super()._draw(LoadedCase(media, {}, shown_ai, ai_fetched=True))

    def show_field(self, field: int) -> None:
        """Show one field of the open specimen full size, with its CAM when its toggle is on."""
        gallery = self.triage.gallery
        if gallery is None or field not in self._fields or self.state.loading or self.state.paused:
            return
        gallery.show_field(field)
        role = self._gallery_role
        cam = self._field_cams.get(field)
        if self.state.ai is not None:
            self.state.ai = replace(self.state.ai, cams={role: cam} if cam is not None else {})
        self.viewer.set_case({role: self._fields[field]}, {role: cam} if cam is not None else None)
        self.state.set_cam_visible(gallery.cam_visible(field))
        self.state.heat_field = field
        self._apply_overlay()
        self.gallery_panel.refresh()
        self.ai_panel.refresh()
        self.refresh()

    def on_keys_requested(self) -> None:
        """F1 / ?: the key card, with the gallery's keys when a specimen is open."""
        gallery = self.triage.gallery
        if gallery is None:
            super().on_keys_requested()
            return
        if self.keys_dialog is not None and self.keys_dialog.isVisible():
            self.keys_dialog.close()
            return
        self.keys_dialog = KeysDialog(
            self.protocol.task,
            self.state.has_cam,
            self,
            gallery_fields=min(9, len(gallery.tiles)),
            aided=self.state.aided,
            viewer_features=self.viewer_key_features(),
        )
        self.keys_dialog.show()

    def on_field_clicked(self, field: int) -> None:
        self.show_field(field)

    def on_field_cam_toggled(self, field: int, on: bool) -> None:
        gallery = self.triage.gallery
        if gallery is None or gallery.cam_visible(field) == on:
            return
        gallery.toggle_cam(field)
        if field == gallery.shown:
            self.state.set_cam_visible(gallery.cam_visible(field))
            self._apply_overlay()
            self.ai_panel.refresh()
        self.gallery_panel.refresh()
        self.refresh()

    def on_cam_controls_changed(self) -> None:
        super().on_cam_controls_changed()
        gallery = self.triage.gallery
        if gallery is not None and gallery.shown is not None:
            gallery.cam_on[gallery.shown] = self.state.cam_visible and gallery.aided
            self.gallery_panel.refresh()

    def _skip(self, cause: str) -> None:
        self.triage.skip_unavailable(cause)

    def on_submit(self) -> None:
        answer = self.state.answer
        if not self.state.can_submit:
            self.refresh()
            return
        if self.triage.correcting:
            reason = self.reason_field.text().strip()
            if not reason:
                self.error_text = "Give a reason for the correction, then press Enter."
                self.refresh()
                self.reason_field.setFocus()
                return
            self._commit(lambda: self.triage.confirm(answer.index, reason))  # type: ignore[attr-defined]
        else:
            self._confirm(answer.index)  # type: ignore[attr-defined]

    def on_answer_changed(self) -> None:
        index = getattr(self.state.answer, "index", None)
        if index is not None and not self.triage.correcting:
            self._confirm(index)
        else:
            self.refresh()

    def _confirm(self, index: int) -> None:
        if self.state.item is None or self.state.paused or self.state.loading:
            return
        if self.triage.correcting:  # a correction is saved with its reason (Enter), not on the key
            self.state.answer.select(index)  # type: ignore[attr-defined]
            self.answer_panel.refresh()
            self.refresh()
            return
        self._commit(lambda: self.triage.confirm(index))

    def route_key(self, target: QWidget, event: QKeyEvent) -> bool:
        """The correction's reason is free text: every character typed into it stays there
        (P, C, D and digits are letters of the reason, not screen keys); Ctrl+digit, F1 and
        Enter still reach the screen."""
        mods = event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
        if target is self.reason_field and event.text().isprintable() and event.text() and not mods:
            return False
        return super().route_key(target, event)

    def handle_key(self, event: QKeyEvent) -> bool:
        name = KEY_NAMES.get(event.key())
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        gallery = self.triage.gallery
        if gallery is not None:
            # A specimen: digits show fields, Ctrl+digit answers, D marks the decisive field, C its CAM.
            if name is not None and name.isdigit() and not mods:
                if gallery.show_position(int(name)) is not None:
                    self.show_field(gallery.shown)
                return True
            if name is not None and name.isdigit() and mods == Qt.KeyboardModifier.ControlModifier:
                index = int(name) - 1
                if 0 <= index < len(self.triage.labels):
                    self._confirm(index)
                return True
            if event.key() == Qt.Key.Key_D and not mods:
                gallery.mark_decisive()
                self.gallery_panel.refresh()
                self.refresh()
                return True
            if event.key() == Qt.Key.Key_C and not mods and gallery.shown is not None:
                if gallery.aided and gallery.shown in self._field_cams:
                    self.on_field_cam_toggled(gallery.shown, not gallery.cam_visible(gallery.shown))
                return True
        if name is not None and name.isdigit() and not mods:
            index = int(name) - 1
            if 0 <= index < len(self.triage.labels):
                self._confirm(index)
                return True
        return super().handle_key(event)

    def on_filter_changed(self, text: str) -> None:
        if self._form_aided:  # the unaided form has no filter (it would sort by the AI)
            self.triage.set_filter(None if text in ("", ALL) else text)
            self.refresh()

    def on_row_clicked(self, index: QModelIndex) -> None:
        case_id = self.queue_model.case_id(index.row())
        current = self.state.item
        if self.state.stopped:  # the session moved to another window
            return
        if (current is not None and current.case_id == case_id) or not self.triage.can_open(case_id):
            self.refresh()
            return
        try:
            self.triage.open(case_id)  # records the sitting of the slide left
        except SessionMoved as err:
            self.stop_for_move(err)
            return
        self.error_text = ""
        self.reason_field.clear()
        self.show_current()

    # -- drawing ----------------------------------------------------------------
    def _apply_form(self) -> None:
        """Build the queue for the aided or the unaided form (once per form)."""
        t = self.triage
        if self._form_aided == t.aided:
            return
        self._form_aided = t.aided
        self.filter_box.blockSignals(True)
        self.filter_box.clear()
        if t.aided:
            self.filter_box.addItem(ALL)
            self.filter_box.addItems(t.labels)
        self.filter_box.blockSignals(False)
        self.filter_box.setVisible(t.aided)
        self.queue_title.setText("Triage queue \u00b7 ranked by the AI" if t.aided else "Slides to review")

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        for section in range(self.queue_model.columnCount()):
            name = self.queue_model.headerData(section, Qt.Orientation.Horizontal)
            if name in COLUMN_WIDTHS and not (name == "Answer" and not self.triage.aided):
                header.setSectionResizeMode(section, QHeaderView.ResizeMode.Fixed)
                header.resizeSection(section, COLUMN_WIDTHS[name])
            elif name.startswith("AI P(") or name == "AI score":
                header.setSectionResizeMode(section, QHeaderView.ResizeMode.Fixed)
                # measured in the header's own (styled, bold) font, with room for its padding
                header.resizeSection(section, header.fontMetrics().horizontalAdvance(name) + 28)
            else:
                header.setSectionResizeMode(section, QHeaderView.ResizeMode.Stretch)

    def refresh(self) -> None:
        super().refresh()
        if not hasattr(self, "queue_model") or not hasattr(self, "reason_field"):
            return  # called from the base constructor before the queue exists
        t = self.triage
        self._apply_form()
        columns = self.queue_model.columnCount()
        self.queue_model.refresh()
        if columns != self.queue_model.columnCount() or t.block_changed:
            t.block_changed = False
            self._size_columns()
        total = len(t.rows)
        part = f" \u00b7 part {t.block_index + 1} of {t.blocks}" if t.blocks > 1 else ""
        self.remaining_label.setText(f"{t.remaining} of {total} slides to review{part}")
        current = t.current
        if current is not None:
            self.progress_label.setText(f"Slide {current.rank} of {total}  \u00b7  {t.remaining} to review")
        row = self.queue_model.row_of(current.case_id) if current is not None else None
        if row is not None:
            if self.table.currentIndex().row() != row or not self.table.selectionModel().hasSelection():
                self.table.selectRow(row)
        else:
            self.table.clearSelection()
        correcting = t.correcting and not self.state.loading
        self.correction_label.setText(
            f"You answered {t.previous_answer() or 'this slide'} before. Pick the "
            "class and give a reason to correct it."
            if correcting
            else ""
        )
        self.correction_label.setVisible(correcting)
        self.reason_field.setVisible(correcting)
        if not t.correcting and self.reason_field.text():
            self.reason_field.clear()
        # One key or one click per slide: the class chosen is the answer; a correction is saved with Enter.
        self.submit_button.setVisible(correcting)
        self.question_label.setText(
            self.protocol.task.question
            or ("Confirm or change the AI class" if t.aided else "Your class for this slide")
        )
        self.problem_label.setText(self.error_text)

    def key_hint(self) -> str:
        n = len(self.triage.labels)
        gallery = getattr(getattr(self, "triage", None), "gallery", None)
        if gallery is not None:
            return (
                f"1\u2013{len(gallery.tiles)} or a click shows a field \u00b7 D decisive field\n"
                f"Ctrl+1\u2013{n} or a click gives the class \u00b7 P pauses"
                + (" \u00b7 C heat map" if gallery.aided else "")
            )
        if getattr(self, "triage", None) is not None and self.triage.correcting:
            return f"1\u2013{n} pick the class \u00b7 type the reason\nEnter saves the correction \u00b7 P pauses"
        if getattr(self, "triage", None) is not None and self.triage.aided:
            return f"1\u2013{n} or a click confirms or changes the class\nthe next slide opens \u00b7 P pauses" + (
                " \u00b7 C heat map" if self.state.has_cam else ""
            )
        return f"1\u2013{n} or a click gives the class\nthe next slide opens \u00b7 P pauses"
