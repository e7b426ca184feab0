"""The study window: login -> sessions -> reading (or triage) -> summary.

One StudyEngine per window.  The window owns the open ReadingSession: it keeps
the lease alive with a heartbeat and releases it when the reader leaves, the
session ends or the window closes (a crash leaves a lease that expires; the
next login resumes at the first unanswered case either way).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QWidget

from app.reading.login_state import LoginState
from app.reading.login_widget import LoginWidget
from app.reading.prefetch import MediaPrefetcher, warm_slides
from app.reading.reading_state import ReadingState, feedback_text, utc_now
from app.reading.reading_widget import ReadingWidget, default_viewer
from app.reading.session_list_state import SessionListState
from app.reading.session_list_widget import SessionListWidget
from app.reading.stopwatch import Clock
from app.reading.summary_widget import SummaryWidget
from app.reading.take_over_dialog import TakeOverDialog
from app.reading.triage_state import TriageState
from app.reading.triage_widget import TriageWidget
from app.workers import warm_up
from study import regiongeometry
from study.engine import LeaseStale, OpenInAnotherWindow, SessionMoved
from study.errors import StudyError

HEARTBEAT_MS = 30_000


def demo_hint(engine) -> str:
    """A sign-in hint for the synthetic demo studies (marked by demo.json), never for real ones."""
    study_dir = getattr(engine, "study_dir", None)
    if study_dir is None or not (study_dir / "demo.json").is_file():
        return ""
    from app.commands.demo import DEMO_ADMIN_PASSWORD
    from study.demo import DEMO_PIN

    # Only a design with an unaided and an aided session has a washout to waive (cytology and
    # conjunctiva read aided only, in one session).
    two_sessions = len(engine.protocol.modes) > 1
    return (
        f"Demo study: sign in as spec1 (specialist) or res1 (resident), PIN {DEMO_PIN}. "
        + ("spec1 may start the aided session right after the unaided one. " if two_sessions else "")
        + f"Study administration below: admin password {DEMO_ADMIN_PASSWORD}."
    )


class MainWindow(QMainWindow):
    screen_changed = Signal(str)  # "login" | "sessions" | "reading" | "triage" | "summary"

    def __init__(
        self,
        engine,
        *,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] | None = None,
        viewer_factory: Callable[[bool], QWidget] = default_viewer,
        media_loader=None,
        workstation: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.protocol = engine.protocol
        self.clock = clock
        self.now = now or getattr(engine, "clock", None) or utc_now
        self.viewer_factory = viewer_factory
        self.workstation = workstation
        self.prefetcher = MediaPrefetcher(media_loader, parent=self)
        # Whole-slide studies: tiffslide's imports and set-up run while the reader signs in.
        self.warmed_slide: str | None = None  # the slide the warm-up opened, once it has
        self.slide_warmup = warm_slides(
            [cell for case in engine.cases for cell in case.media.values() if cell], self.on_slides_warmed
        )
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"readerstudy \u2013 {self.protocol.title}")
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.login_state = LoginState(engine, clock=clock)
        self.login = LoginWidget(self.login_state, self.protocol.title, demo_hint(engine))
        self.login.logged_in.connect(self.on_logged_in)
        self.login.admin_requested.connect(self.on_admin_requested)
        self.admin_window: QWidget | None = None
        self.stack.addWidget(self.login)
        self.sessions: SessionListWidget | None = None
        self.reading: ReadingWidget | None = None
        self.summary: SummaryWidget | None = None
        self.session = None
        self.take_over_dialog: TakeOverDialog | None = None
        self.moved_message = ""  # why the reading screen stopped: the session moved to another window
        self.screen = ""
        self.heartbeat = QTimer(self)
        self.heartbeat.setInterval(HEARTBEAT_MS)
        self.heartbeat.timeout.connect(self.on_heartbeat)
        self._show("login", self.login)
        self.resize(1440, 900)
        if self.protocol.task.kind == "region":
            # While the reader logs in: the contour editor's libraries take seconds to import.
            warm_up(regiongeometry.load_libraries)

    def show_background_status(self, text: str) -> None:
        """A status line for work going on outside this window (the demo's set-up)."""
        self.statusBar().showMessage(text)

    # -- navigation -------------------------------------------------------------
    def _show(self, name: str, widget: QWidget) -> None:
        if self.stack.indexOf(widget) < 0:
            self.stack.addWidget(widget)
        self.stack.setCurrentWidget(widget)
        self.screen = name
        if widget is self.login:
            self.login.code_field.setFocus()
        self.screen_changed.emit(name)

    def _drop(self, widget: QWidget | None) -> None:
        if widget is not None:
            self.stack.removeWidget(widget)
            widget.deleteLater()

    def on_admin_requested(self) -> None:
        """The study's admin login in its own window (the reader sign-in stays as it is)."""
        from app.admin import open_admin

        if self.admin_window is None or not self.admin_window.isVisible():
            self.admin_window = open_admin(self.engine.study_dir)
        self.admin_window.show()
        self.admin_window.raise_()
        self.admin_window.activateWindow()

    def on_logged_in(self, reader: str) -> None:
        self._drop(self.sessions)
        demo_dir = str(self.engine.study_dir) if demo_hint(self.engine) else ""
        self.sessions = SessionListWidget(
            SessionListState(self.engine, reader, self.now), self.protocol.title, demo_dir
        )
        self.sessions.session_chosen.connect(self.on_session_chosen)
        self.sessions.take_over_confirmed.connect(self.on_take_over_confirmed)
        self.sessions.logged_out.connect(self.on_logged_out)
        self.show_sessions()

    def show_sessions(self, message: str = "", stale_session: int | None = None) -> None:
        assert self.sessions is not None
        self.sessions.state.message = message
        self.sessions.state.stale_session = stale_session
        self.sessions.refresh()
        self._show("sessions", self.sessions)

    def on_logged_out(self) -> None:
        self.login.reset()
        self._show("login", self.login)

    def on_take_over_confirmed(self, index: int) -> None:
        self.on_session_chosen(index, take_over=True)

    def on_session_chosen(self, index: int, take_over: bool = False) -> None:
        reader = self.login_state.reader
        assert reader is not None and self.sessions is not None
        try:
            self.session = self.engine.start(reader, index, self.workstation, take_over=take_over)
        except LeaseStale as err:  # left open on a workstation that stopped: the reader may take it over
            self.show_sessions(str(err), stale_session=index)
            return
        except OpenInAnotherWindow as err:  # alive in another window here: the reader chooses
            self.ask_take_over(index, err)
            return
        except StudyError as err:
            self.show_sessions(str(err))
            return
        self._drop(self.reading)
        self.prefetcher.clear()
        title = self.protocol.title
        if self.protocol.mode == "triage":
            # The state asks the session for AI outputs itself: aided slides only, none when unaided.
            triage = TriageState(
                self.session, self.protocol, answers=self.session.own_answers(), clock=self.clock, now=self.now
            )
            self.reading = TriageWidget(triage, self.prefetcher, title=title, viewer_factory=self.viewer_factory)
            name = "triage"
        else:
            state = ReadingState(self.session, self.protocol, clock=self.clock, now=self.now)
            self.reading = ReadingWidget(state, self.prefetcher, title=title, viewer_factory=self.viewer_factory)
            name = "reading"
        self.reading.session_finished.connect(self.on_session_finished)
        self.reading.exit_requested.connect(self.on_exit_requested)
        self.reading.session_moved.connect(self.on_session_moved)
        self.moved_message = ""
        self._show(name, self.reading)
        self.heartbeat.start()
        resumed = self.session.resumed_from
        if resumed is not None:  # a window here stopped (crash) with the session open: it goes on here
            self.reading.notice_label.setText(
                f"This session was left open in a window that stopped (last heartbeat "
                f"{resumed.last_heartbeat:%H:%M} UTC); it continues here."
            )
        self.reading.begin()

    def ask_take_over(self, index: int, err: OpenInAnotherWindow) -> None:
        """The session is open in another window of this workstation: take it over or cancel."""
        assert self.sessions is not None
        title = next((r.title for r in self.sessions.state.rows if r.index == index), "This session")
        if self.take_over_dialog is not None:
            self.take_over_dialog.deleteLater()
        self.take_over_dialog = dialog = TakeOverDialog(title, err.holder, self.now(), parent=self)
        dialog.accepted.connect(lambda: self.on_session_chosen(index, take_over=True))
        dialog.rejected.connect(lambda: self.show_sessions(f"{title} stays open in the other window; nothing changed."))
        dialog.open()

    def _close_session(self) -> None:
        self.heartbeat.stop()
        if self.reading is not None:
            self.reading.ticker.stop()
            if self.session is not None:
                try:
                    self.reading.state.leave()  # the case on screen keeps this sitting's time
                except SessionMoved as err:  # nothing recorded: the reader is told on the session list
                    self.session = None
                    self.reading.stop_for_move(err, leaving=True)
                except StudyError as err:
                    self.reading.error_text = str(err)
        if self.session is not None:
            try:
                self.session.close()
            except StudyError:
                pass  # the lease expired or was taken over: nothing left to release
            self.session = None

    def on_session_finished(self) -> None:
        assert self.reading is not None
        state = self.reading.state
        name = self.session.name if self.session is not None else ""
        self._close_session()
        feedback = feedback_text(self.protocol, lambda cid: self.engine.case(cid).truth, state.submitted)
        self._drop(self.summary)
        self.summary = SummaryWidget(state.summary(), name, feedback)
        self.summary.back_requested.connect(lambda: self.show_sessions())
        self._show("summary", self.summary)
        self.summary.back_button.setFocus()

    def on_slides_warmed(self, slide: str | None) -> None:
        self.warmed_slide = slide

    def on_exit_requested(self) -> None:
        self._close_session()
        self.show_sessions(self.moved_message)

    def on_session_moved(self, message: str) -> None:
        """The reading screen stopped: another window took the session over.  This window
        keeps no lease (nothing to renew or release) and records nothing more."""
        self.moved_message = message
        self.heartbeat.stop()
        self.session = None

    def on_heartbeat(self) -> None:
        if self.session is None:
            return
        try:
            self.session.heartbeat()
        except SessionMoved as err:
            if self.reading is not None:
                self.reading.stop_for_move(err)  # the screen stays, stopped, with the answer on it
            else:
                self.session = None
                self.show_sessions(str(err))
        except StudyError as err:
            self.session = None
            self._close_session()
            self.show_sessions(str(err))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._close_session()
        self.prefetcher.clear()
        super().closeEvent(event)
