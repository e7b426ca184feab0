"""The reading screen: hanging layout, answer panel, AI panel (aided only), progress.

Bound to one ReadingState.  Keys: digits / arrows set the answer, Enter
submits, C shows the CAM (aided), P pauses, F1 or ? opens the key card.  These
reach the screen whatever has focus inside it (an application event filter
routes them before the viewer or a button sees them); the viewer keeps only
keys the answer form does not use.  The next case's media are requested from
the prefetcher as soon as a case is drawn, so after Enter the switch is a
``set_case`` on data in memory.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QHideEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.reading.ai_panel import AIPanel
from app.reading.answer_panels import NumericAnswerPanel, panel_for
from app.reading.card import side_panel
from app.reading.keys_dialog import KeysDialog
from app.reading.prefetch import LoadedCase, MediaPrefetcher, item_key
from app.reading.reading_state import ReadingState, format_duration
from app.reading.region_editor import AI_COLOR, RegionEditorPanel
from app.viewer.keys import KEY_ACTIONS
from study.engine import SessionMoved
from study.errors import StudyError

KEY_NAMES = {
    Qt.Key.Key_Up: "up",
    Qt.Key.Key_Down: "down",
    Qt.Key.Key_Left: "left",
    Qt.Key.Key_Right: "right",
    **{getattr(Qt.Key, f"Key_{d}"): str(d) for d in range(10)},
}


# Arrows the answer form of each task kind uses; the others stay with the viewer.
ANSWER_ARROWS = {
    "binary": {"up", "down", "left", "right"},
    "multiclass": {"up", "down"},
    "grade_distribution": {"left", "right"},
    "numeric": {"up", "down"},
    "region": {"up", "down", "left", "right"},  # the combined question's, when there is one
}
# Region tasks: tool keys of the contour editor (app.reading.region_editor); A and O are the
# viewer's mask keys (app.viewer.keys), taken here so they work wherever the focus is.
REGION_TOOL_KEYS = {Qt.Key.Key_V: "outline", Qt.Key.Key_B: "brush", Qt.Key.Key_E: "eraser"}
NUMBER_CHARS = set("0123456789.,-")


def field_key(event: QKeyEvent) -> bool:
    """A key a focused text or number field takes for itself: a character typed (letters too, so
    the screen's letter shortcuts do not fire while typing) or an editing chord such as Ctrl+A.
    Enter, arrows, Escape and F1 are not: they stay the screen's."""
    if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_F1):
        return False
    if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier):
        return event.key() not in (Qt.Key.Key_Up, Qt.Key.Key_Down)
    text = event.text()
    return bool(text) and text.isprintable() and text != "?"


class _AnswerKeyRoute(QObject):
    """Application event filter: a key pressed anywhere inside the screen goes to
    ``screen.route_key`` first (viewer, buttons and panels see it only if not taken)."""

    def __init__(self, screen: ReadingWidget) -> None:
        super().__init__(screen)
        self.screen = screen

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.KeyPress or not isinstance(obj, QWidget):
            return False
        screen = self.screen
        if not screen.isVisible() or not (obj is screen or screen.isAncestorOf(obj)):
            return False  # another screen, or a separate window such as the key card
        return screen.route_key(obj, event)


def default_viewer(sync: bool) -> QWidget:
    from app.viewer import HangingLayoutWidget

    return HangingLayoutWidget(sync=sync)


class ReadingWidget(QWidget):
    case_shown = Signal()  # a case is on screen and its clock runs
    read_submitted = Signal()  # the engine committed a read
    session_finished = Signal()  # no case left
    exit_requested = Signal()  # the reader leaves; the case on screen is not saved
    session_moved = Signal(str)  # another window took the session over: this screen stopped (the message)

    def __init__(
        self,
        state: ReadingState,
        prefetcher: MediaPrefetcher,
        *,
        title: str = "",
        viewer_factory: Callable[[bool], QWidget] = default_viewer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("readingScreen")
        self.state = state
        self.protocol = state.protocol
        self.prefetcher = prefetcher
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.error_text = ""

        # -- top bar: title, progress, timer, pause, exit
        bar = QFrame()
        bar.setObjectName("topBar")
        top = QHBoxLayout(bar)
        top.setContentsMargins(16, 6, 10, 6)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("studyTitle")
        self.progress_label = QLabel()
        self.progress_label.setObjectName("progressLabel")
        self.timer_label = QLabel()
        self.timer_label.setObjectName("timerLabel")
        self.pause_button = QPushButton("Pause   P")
        self.exit_button = QPushButton("Exit")
        self.exit_button.setToolTip(
            "Leave the session; your submitted answers are saved and the case on screen starts again next time"
        )
        for b in (self.pause_button, self.exit_button):
            b.setObjectName("barButton")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pause_button.clicked.connect(self.on_pause_clicked)
        self.exit_button.clicked.connect(self.exit_requested)
        self.notice_label = QLabel()
        self.notice_label.setObjectName("noticeLabel")
        top.addWidget(self.title_label)
        top.addSpacing(16)
        top.addWidget(self.notice_label)
        top.addStretch(1)
        top.addWidget(self.progress_label)
        top.addStretch(1)
        top.addWidget(self.timer_label)
        top.addSpacing(12)
        top.addWidget(self.pause_button)
        top.addWidget(self.exit_button)

        # -- centre: the viewer, or a cover (loading / paused / time up)
        self.viewer = viewer_factory(self.protocol.hanging.sync != "none")
        if hasattr(self.viewer, "overlay_toggled"):
            self.viewer.overlay_toggled.connect(self.on_viewer_overlay_toggled)
        self.cover_label = QLabel()
        self.cover_label.setObjectName("coverLabel")
        self.cover_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover_label.setWordWrap(True)
        self.centre = QStackedWidget()
        self.centre.setObjectName("viewerArea")
        self.centre.addWidget(self.viewer)
        self.centre.addWidget(self.cover_label)

        # -- side panel: question, answer, submit, AI
        side, col = side_panel("sidePanel", 360, (18, 16), 10)
        self.question_label = QLabel(self.protocol.task.question or "Your answer")
        self.question_label.setObjectName("questionLabel")
        self.question_label.setWordWrap(True)
        col.addWidget(self.question_label)
        self.answer_panel = panel_for(state.answer)
        self.answer_panel.answer_changed.connect(self.on_answer_changed)
        if isinstance(self.answer_panel, NumericAnswerPanel):
            self.answer_panel.forward_keys_to(self.handle_key)
        col.addWidget(self.answer_panel)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("problemLabel")
        self.problem_label.setWordWrap(True)
        col.addWidget(self.problem_label)
        self.submit_button = QPushButton("Submit   \u21b5")
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setToolTip("Submit this answer and show the next case (Enter)")
        self.submit_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.submit_button.setMinimumHeight(44)
        self.submit_button.clicked.connect(self.on_submit)
        col.addWidget(self.submit_button)
        col.addSpacing(8)
        self.ai_panel = AIPanel(state, self.protocol.task.unit)
        self.ai_panel.cam_changed.connect(self.on_cam_controls_changed)
        col.addWidget(self.ai_panel)
        col.addStretch(1)
        self.keys_label = QLabel()
        self.keys_label.setObjectName("hint")
        self.keys_label.setWordWrap(True)
        col.addWidget(self.keys_label)

        self.body = body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.centre, 1)
        body.addWidget(side)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(bar)
        outer.addLayout(body, 1)
        self.centre.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.prefetcher.loaded.connect(self.on_media_loaded)
        self.ticker = QTimer(self)
        self.ticker.setInterval(250)
        self.ticker.timeout.connect(self.on_tick)
        self.keys_dialog: KeysDialog | None = None
        self._key_route = _AnswerKeyRoute(self)

    # -- flow -------------------------------------------------------------------
    def begin(self) -> None:
        """Show the first unanswered case (resume) or finish at once."""
        self.state.start()
        self.show_current()
        self.ticker.start()

    def show_current(self) -> None:
        item = self.state.item
        if item is None:
            self.ticker.stop()
            self.refresh()
            self.session_finished.emit()
            return
        self.answer_panel.bind(self.state.answer)
        loaded = self.prefetcher.get(item)
        if loaded is None:
            self.prefetcher.request(item, self.state.session.ai_output)
            self.refresh()
        else:
            self._draw(loaded)  # refreshes the screen itself

    def _draw(self, loaded: LoadedCase) -> None:
        state = self.state
        if loaded.ai_fetched:
            state.attach_ai(loaded.ai)
        if loaded.errors:
            # A case with an unreadable series is not read at all (a missing DWI would
            # change the task); the engine records why and the session goes on.
            self.skip_current("; ".join(f"{role}: {cause}" for role, cause in loaded.errors.items()))
            return
        roles = [r for r in self.protocol.hanging.roles if r in loaded.media]
        if roles:
            cams = state.ai.cams if state.ai is not None else {}
            # A whole-slide role's score map travels as "<role>#scoremap" (study.wsi_scores).
            shown = {key: cam for key, cam in cams.items() if key.split("#")[0] in roles}
            self.viewer.set_case({r: loaded.media[r] for r in roles}, shown or None)
            self._apply_overlay()
            self._start_region(loaded)
        self.ai_panel.show_output(state.ai)
        state.media_ready()
        self.refresh()
        if not self.answer_panel.take_focus():
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        # The read's clock starts once the case is painted, not while the app still works on it.
        self.centre.repaint()
        state.media_shown()
        self._play_videos(True)
        self._refresh_timer()
        self.case_shown.emit()
        self.prefetcher.request(self.next_to_prefetch(), self.state.session.ai_output)

    item_noun = "case"  # what the reader calls one item of the session

    def skip_current(self, cause: str) -> None:
        try:
            self._skip(cause)
        except SessionMoved as err:
            self.stop_for_move(err)
            return
        n = self.state.skipped
        self.notice_label.setText(
            f"{n} {self.item_noun}{'s' if n != 1 else ''} could not be opened and "
            f"{'were' if n != 1 else 'was'} skipped; the study team is told."
        )
        self.show_current()

    def stop_for_move(self, err: SessionMoved, leaving: bool = False) -> None:
        """Another window took the session over: stop here, say so, and say what becomes of the
        answer on screen (not saved; kept on screen unless ``leaving``; the case stays unanswered
        for the other window)."""
        if self.state.stopped:
            return
        self.state.stop()
        self.ticker.stop()
        self._play_videos(False)
        item = self.state.item
        kept = "" if leaving else " it stays on this screen, and"
        answered = item is not None and self.state.answer.draft() is not None  # something entered here
        unsaved = (  # said only when something was entered here (else it would alarm for nothing)
            f" Your answer to {self.item_noun} {item.position} of {item.total} was not submitted, so it is "
            f"not saved:{kept} the {self.item_noun} is read in the other window."
            if answered
            else ""
        )
        self.error_text = f"{err}{unsaved}"
        self.exit_button.setText("Back to sessions")
        self.exit_button.setToolTip("This window stopped; the session goes on in the other window")
        self.pause_button.setEnabled(False)
        self.refresh()
        self.session_moved.emit(self.error_text)

    def _skip(self, cause: str) -> None:
        self.state.skip_unavailable(cause)

    def next_to_prefetch(self):
        return self.state.peek_next()

    def _play_videos(self, on: bool) -> None:
        """Videos loop from the start of a case (a 1-s clip is judged in motion); pause stops them."""
        for vp in getattr(self.viewer, "viewports", lambda: [])():
            media = vp.media
            if media is not None and media.kind == "video" and media.n_frames > 1:
                vp.play() if on else vp.stop()

    @property
    def region_editor(self) -> RegionEditorPanel | None:
        return self.answer_panel if isinstance(self.answer_panel, RegionEditorPanel) else None

    def region_viewport(self):
        """The viewport a region task is drawn in (None for other tasks or a stand-in viewer)."""
        if self.region_editor is None or not hasattr(self.viewer, "viewport"):
            return None
        role = self.protocol.region_role
        return self.viewer.viewport(role) if role in self.viewer.roles else None

    def _start_region(self, loaded: LoadedCase) -> None:
        """Region tasks: size the answer to the image, start an aided read from the AI's
        region, show that region as the viewport's mask overlay, and put the editor in."""
        vp = self.region_viewport()
        media = loaded.media.get(self.protocol.region_role)
        if vp is None or media is None:
            return
        # a DICOM without PixelSpacing loads with 1 mm pixels for display only: no mm² from those
        own_spacing = tuple(media.spacing) if media.spacing_known else None
        is_2d = media.n_frames == 1 and media.kind in ("image", "dicom")
        self.state.region_ready(media.frames.shape[:3], own_spacing, is_2d, media)
        start = self.region_editor.state.start
        vp.set_mask(start)
        vp.set_mask_style(color=AI_COLOR, opacity=0.25)
        self.region_editor.attach(vp)

    def _apply_overlay(self) -> None:
        if not hasattr(self.viewer, "set_overlays_visible"):
            return
        s = self.state
        self.viewer.set_overlays_visible(s.has_cam and s.cam_visible)
        if s.has_cam:
            self.viewer.set_overlay_opacity(s.overlay.opacity)
            self.viewer.set_overlay_colormap(s.overlay.colormap)
            if hasattr(self.viewer, "set_overlay_strength"):
                # as strongly as the AI scores the heat's class (study.heat): no red blot beside "3 %"
                self.viewer.set_overlay_strength(s.heat.strength)

    # -- slots ------------------------------------------------------------------
    def on_media_loaded(self, key: str) -> None:
        item = self.state.item
        if item is not None and item_key(item) == key and self.state.loading:
            self._draw(self.prefetcher.get(item))

    def on_submit(self) -> None:
        if not self.state.can_submit:
            self.refresh()
            return
        # try_submit: a category contradicting the likelihood is first shown (warn) or refused (block).
        self._commit(self.state.try_submit)

    def _commit(self, submit: Callable[[], object]) -> None:
        """Run one engine submit; on success move on, on refusal show why and keep the answer.

        ``submit`` returning None means nothing was submitted (a warning is on screen)."""
        try:
            done = submit()
        except SessionMoved as err:
            self.stop_for_move(err)
            return
        except StudyError as err:
            self.error_text = str(err)
            self.refresh()
            return
        if done is None:
            self.refresh()
            return
        self.error_text = ""
        self.read_submitted.emit()
        self.show_current()

    def on_answer_changed(self) -> None:
        self.state.answer_edited()
        self.refresh()

    def on_keys_requested(self) -> None:
        """F1 / ?: open the key card, or close it when open."""
        if self.keys_dialog is not None and self.keys_dialog.isVisible():
            self.keys_dialog.close()
            return
        self.keys_dialog = KeysDialog(
            self.protocol.task,
            self.state.has_cam,
            self,
            aided=self.state.aided,
            viewer_features=self.viewer_key_features(),
        )
        self.keys_dialog.show()

    def viewer_key_features(self) -> frozenset[str] | None:
        """What the viewer's keys can act on in the case shown (None: a viewer that cannot tell)."""
        features = getattr(self.viewer, "key_features", None)
        return features() if features is not None else None

    def on_pause_clicked(self) -> None:
        self.state.toggle_pause()
        self._play_videos(not self.state.paused)
        self.refresh()

    def on_cam_controls_changed(self) -> None:
        self._apply_overlay()
        self.refresh()

    def on_viewer_overlay_toggled(self, on: bool) -> None:
        # `c` pressed inside a viewport: keep the state (and the CAM clock) in step.
        if self.state.has_cam and on != self.state.cam_visible:
            self.state.set_cam_visible(on)
            self.ai_panel.refresh()

    def on_tick(self) -> None:
        if self.state.tick():
            self._play_videos(False)
            self.refresh()  # time is up: cover the image, hide the AI
        else:
            self._refresh_timer()
            self._refresh_cover()

    # -- keys -------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        QApplication.instance().installEventFilter(self._key_route)
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        QApplication.instance().removeEventFilter(self._key_route)
        super().hideEvent(event)

    def route_key(self, target: QWidget, event: QKeyEvent) -> bool:
        """A key pressed on ``target`` inside this screen: True when the screen took it.

        Answer keys always reach the answer form: digits, the task's arrows,
        Enter, C, P, F1 and ?.  Typing into a field stays with the field (the
        numeric answer takes digits, the split spin boxes take theirs; letters,
        Ctrl+A and the other editing keys too, so C and P are the field's there,
        while Enter, the arrows and F1 still work); digits typed elsewhere for a
        numeric answer go into its field.
        """
        field = getattr(self.answer_panel, "field", None)
        text = event.text()
        typing = (
            bool(text)
            and text in NUMBER_CHARS
            or event.key()
            in (
                Qt.Key.Key_Backspace,
                Qt.Key.Key_Delete,
                Qt.Key.Key_Left,
                Qt.Key.Key_Right,
                Qt.Key.Key_Home,
                Qt.Key.Key_End,
            )
        )
        if isinstance(target, (QLineEdit, QAbstractSpinBox)) and (typing or field_key(event)):
            return False  # the field being typed into keeps its editing keys, letters and Ctrl+A / C / V / Z
        if field is not None and typing and text in NUMBER_CHARS and self.answer_panel.isEnabled():
            field.setFocus(Qt.FocusReason.OtherFocusReason)
            QApplication.sendEvent(field, QKeyEvent(event.type(), event.key(), event.modifiers(), text))
            return True
        return self.handle_key(event) or self._to_viewport_under_pointer(target, event)

    def _to_viewport_under_pointer(self, target: QWidget, event: QKeyEvent) -> bool:
        """A viewer key (W, M, K, R, Page Down ...) pressed while the focus is outside the images
        goes to the viewport under the mouse pointer, as the wheel does; True when sent there."""
        viewports = getattr(self.viewer, "viewports", None)
        if event.key() not in KEY_ACTIONS or viewports is None:
            return False
        shown = [vp for vp in viewports() if vp.isVisible()]
        if any(vp is target or vp.isAncestorOf(target) for vp in shown):
            return False  # the focused viewport takes it itself
        pointer = QCursor.pos()
        for vp in shown:
            if vp.rect().contains(vp.mapFromGlobal(pointer)):
                QApplication.sendEvent(vp, QKeyEvent(event.type(), event.key(), event.modifiers(), event.text()))
                return True
        return False

    def handle_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_F1 or event.text() == "?":
            self.on_keys_requested()
            return True
        if key == Qt.Key.Key_Escape and self.keys_dialog is not None and self.keys_dialog.isVisible():
            # The card may be on screen without the keyboard (no window manager gave it focus):
            # Esc then reaches this screen and must still close it.
            self.keys_dialog.close()
            return True
        if self.region_editor is not None and self._region_key(event):
            return True
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.on_submit()
        elif key == Qt.Key.Key_P:
            self.on_pause_clicked()
        elif key == Qt.Key.Key_C:
            if self.state.toggle_cam():
                self._apply_overlay()
                self.ai_panel.refresh()
                self.refresh()
        elif key in KEY_NAMES:
            name = KEY_NAMES[key]
            if not name.isdigit() and name not in ANSWER_ARROWS[self.protocol.task.kind]:
                return False  # an arrow this answer form does not use: the viewer's
            if self.state.key(name):
                self.answer_panel.refresh()
                self.refresh()
            # An answer key is taken even when it changed nothing (paused, at the end of
            # the scale): it must never fall through to the viewer.
        else:
            return False
        return True

    def _region_key(self, event: QKeyEvent) -> bool:
        """V / B / E pick the tool, N starts a new outline, Ctrl+Z undoes, A shows / hides the AI's region, O outline / fill."""
        editor, key = self.region_editor, event.key()
        if self.state.item is None or self.state.paused or self.state.loading:
            return False
        if event.matches(QKeySequence.StandardKey.Undo):
            if editor.undo():
                self.refresh()
            return True
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if key in REGION_TOOL_KEYS:
            editor.set_tool(REGION_TOOL_KEYS[key])
            return True
        if key == Qt.Key.Key_N:
            if editor.new_outline():
                self.refresh()
            return True
        vp = self.region_viewport()
        if vp is not None and key == Qt.Key.Key_A:
            vp.toggle_mask()
            return True
        if vp is not None and key == Qt.Key.Key_O:
            vp.cycle_mask_style()
            return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self.handle_key(event):
            event.accept()
        else:
            super().keyPressEvent(event)

    # -- drawing ----------------------------------------------------------------
    def refresh(self) -> None:
        s = self.state
        done, total = s.progress()
        item = s.item
        self.progress_label.setText(
            f"Case {item.position} of {item.total}" if item is not None else f"{done} of {total} read"
        )
        self.pause_button.setText("Resume   P" if s.paused else "Pause   P")
        self.answer_panel.setEnabled(item is not None and not (s.paused or s.loading or s.stopped))
        self.submit_button.setEnabled(s.can_submit)
        problem = self.error_text or (
            s.answer.problem or s.consistency_note if item is not None and not s.loading else ""
        )
        self.problem_label.setText(problem)
        self.problem_label.setProperty("error", bool(self.error_text or (item is not None and s.consistency_note)))
        self.problem_label.style().unpolish(self.problem_label)
        self.problem_label.style().polish(self.problem_label)
        self.ai_panel.setVisible(s.ai is not None and not s.paused and not s.time_up)
        self.keys_label.setText(self.key_hint())
        self._refresh_timer()
        self._refresh_cover()

    def key_hint(self) -> str:
        """Two short lines so the hint never wraps mid-phrase in the side panel."""
        task = self.protocol.task
        first = {
            "binary": "1 / 2 answer \u00b7 \u2191 \u2193 likelihood",
            "multiclass": f"1\u2013{len(task.labels)} or \u2191 \u2193 answer",
            "grade_distribution": f"1\u2013{len(task.grades)} or \u2190 \u2192 grade",
            "numeric": "type the value \u00b7 then \u2191 \u2193 adjust it",
            # a click adds a point, a drag moves a vertex (the AI's contour in aided reads): both hold
            "region": "click adds \u00b7 drag moves \u00b7 Ctrl+Z undo\nV outline \u00b7 B brush \u00b7 E eraser \u00b7 N new",
            # (the AI panel of an aided read says A shows or hides the AI's region)
        }[task.kind]
        second = "Enter submits \u00b7 P pauses" + (" \u00b7 C heat map" if self.state.has_cam else "")
        return f"{first}\n{second}\nF1 or ? all keys"

    def _refresh_timer(self) -> None:
        s = self.state
        left = s.time_left_s()
        if left is not None:
            self.timer_label.setText(f"{format_duration(int(left * 1000) + 999)} left")
            self.timer_label.setProperty("warn", left <= 10)
        elif self.protocol.show_timer and s.item is not None:
            self.timer_label.setText(format_duration(s.active_ms()))
            self.timer_label.setProperty("warn", False)
        else:
            self.timer_label.setText("")
        self.timer_label.setVisible(bool(self.timer_label.text()))

    def _refresh_cover(self) -> None:
        s = self.state
        cover = ""
        if s.stopped:
            cover = (
                "This session moved to another window\n\n"
                "This window stopped: nothing more is saved from it.\nGo on reading in the other window."
            )
        elif s.item is None:
            cover = "Session complete"
        elif s.paused:
            cover = "Paused\n\nPress P to continue"
        elif s.time_up:
            cover = "Time is up\n\nGive your answer and press Enter"
        elif s.loading:
            cover = "Loading\u2026"
        if cover:
            if self.cover_label.text() != cover:
                self.cover_label.setText(cover)
            self.centre.setCurrentWidget(self.cover_label)
        else:
            self.cover_label.setText("")
            self.centre.setCurrentWidget(self.viewer)
