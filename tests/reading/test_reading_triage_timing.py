"""Timing measures the reader, not the app (issue 10), on the reading screen and in triage:

* the read's clock starts once the case is painted: time the app spends
  handing the case to the viewer and painting it is never reading time;
* a case left (Exit, another slide opened) and finished later keeps the time
  of every sitting;
* after a crash the same workstation resumes at once; another workstation
  takes over a stale lease only after the reader confirms, and it is audited.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from app.viewer import HangingLayoutWidget
from study.store import reads_table
from tests.reading.helpers import PIN, make_study


class SlowViewer(HangingLayoutWidget):
    """The real viewer on a slow machine: handing it a case costs 3 s, its first paint 1 s
    more, on the fake clocks of the test."""

    def __init__(self, sync: bool, mono, now) -> None:
        super().__init__(sync=sync)
        self.mono, self.now, self.pending_paint = mono, now, False
        self.painted_at: list[float] = []

    def set_case(self, *args, **kwargs) -> None:
        super().set_case(*args, **kwargs)
        self.mono.advance(3)
        self.now.advance(seconds=3)
        self.pending_paint = True

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.pending_paint:
            self.pending_paint = False
            self.mono.advance(1)
            self.now.advance(seconds=1)
            self.painted_at.append(self.now().timestamp())


def _window(qtbot, engine, mono, now, **kw):
    viewers = []

    def factory(sync):
        viewers.append(SlowViewer(sync, mono, now))
        return viewers[-1]

    window = MainWindow(engine, clock=mono, viewer_factory=factory, **kw)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    # Exposed before the first case: otherwise the synchronous repaint that starts a read's clock
    # may paint nothing, and the slow viewer's first paint (1 s) lands inside the read (a flake
    # seen under load).  waitExposed waits only as a context manager around show().
    with qtbot.waitExposed(window):
        window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    return window, viewers


@pytest.mark.parametrize("mode", ["reading", "triage"])
def test_clock_starts_when_the_case_is_drawn(qtbot, engine_factory, tmp_path, mono, now, mode):
    folder = make_study(tmp_path / mode, "multiclass", design="concurrent", mode=mode, n=3)
    folder.put_ai()
    window, viewers = _window(qtbot, engine_factory(folder), mono, now)
    with qtbot.waitSignal(window.screen_changed):
        window.on_session_chosen(1)
    screen = window.reading
    for _ in range(2):
        qtbot.waitUntil(lambda: screen.state.displayed_at is not None)
        viewer = viewers[-1]
        assert viewer.painted_at, "the case was not painted before its clock started"
        assert screen.state.displayed_at.timestamp() == viewer.painted_at[-1]  # after the 3 + 1 s of app work
        assert screen.state.active_ms() == 0
        mono.advance(2)  # the reader looks for 2 s
        now.advance(seconds=2)
        with qtbot.waitSignal(screen.read_submitted):
            qtbot.keyClick(screen, Qt.Key.Key_1)
            if mode == "reading":
                qtbot.keyClick(screen, Qt.Key.Key_Return)
    df = reads_table(folder.path)
    assert len(df) == 2 and list(df["seconds"]) == [2.0, 2.0]  # not 6 s: the app's 4 s are not reading time


def test_exit_and_jump_keep_every_sitting(qtbot, engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=4)
    folder.put_ai()
    engine = engine_factory(folder)
    window, _ = _window(qtbot, engine, mono, now)
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.clock_running)
    first = screen.state.item.case_id
    mono.advance(5)
    model = screen.queue_model
    qtbot.mouseClick(
        screen.table.viewport(), Qt.MouseButton.LeftButton, pos=screen.table.visualRect(model.index(2, 0)).center()
    )  # jump to slide 3
    qtbot.waitUntil(lambda: screen.state.clock_running and screen.state.item.case_id != first)
    third = screen.state.item.case_id
    mono.advance(7)
    qtbot.mouseClick(screen.exit_button, Qt.MouseButton.LeftButton)  # leave slide 3 unanswered
    assert window.screen == "sessions"
    window.on_session_chosen(1)  # later: the most suspicious slide (slide 1) opens again
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.clock_running)
    assert screen.state.item.case_id == first
    mono.advance(2)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: screen.state.clock_running)
    screen.on_row_clicked(model_index(screen, third))
    qtbot.waitUntil(lambda: screen.state.clock_running and screen.state.item.case_id == third)
    mono.advance(1)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_1)
    df = reads_table(folder.path).set_index("case")
    assert df.loc[first, "seconds"] == 7.0 and df.loc[first, "sitting_seconds"] == "5.0;2.0"
    assert df.loc[third, "seconds"] == 8.0 and df.loc[third, "sitting_seconds"] == "7.0;1.0"
    sittings = engine.sittings("r1")
    assert [(s.case_id, s.outcome) for s in sittings if s.case_id in (first, third)] == [
        (first, "left"),
        (third, "left"),
        (first, "submitted"),
        (third, "submitted"),
    ]


def model_index(screen, case_id):
    model = screen.queue_model
    return model.index(model.row_of(case_id), 0)


def test_reading_screen_exit_keeps_the_sitting(qtbot, engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "mri", "multiclass", design="concurrent", n=3)
    folder.put_ai()
    window, _ = _window(qtbot, engine_factory(folder), mono, now)
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.clock_running)
    case = screen.state.item.case_id
    mono.advance(4)
    window.on_exit_requested()
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.clock_running)
    assert screen.state.item.case_id == case
    mono.advance(3)
    qtbot.keyClick(screen, Qt.Key.Key_2)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    row = reads_table(folder.path).set_index("case").loc[case]
    assert row["seconds"] == 7.0 and row["sittings"] == 2 and row["sitting_seconds"] == "4.0;3.0"


def test_crash_resume_and_confirmed_take_over(qtbot, engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=3)
    folder.put_ai()
    # A crashed run on this workstation: while its lease looks alive the reader is asked first
    # (it may be another window still open: tests/reading/test_reading_windows.py).
    engine_factory(folder).start("r1", 1)
    window, _ = _window(qtbot, engine_factory(folder), mono, now)
    window.on_session_chosen(1)
    assert window.screen == "sessions" and window.take_over_dialog.isVisible()
    window.take_over_dialog.reject()
    now.advance(minutes=3)  # no heartbeat since: that window stopped
    window.on_session_chosen(1)
    assert window.screen == "triage"  # same machine and user: resumes at once, with a note
    assert "left open in a window that stopped" in window.reading.notice_label.text()
    window.on_exit_requested()
    # Left open on another workstation, which then stopped.
    engine_factory(folder).start("r1", 1, workstation="alice@ws-7")
    qtbot.mouseClick(window.sessions.start_buttons[1], Qt.MouseButton.LeftButton)
    assert window.screen == "sessions" and "open on workstation 'alice@ws-7'" in window.sessions.message_label.text()
    assert not window.sessions.take_over_button.isVisible()  # live lease: no take-over
    now.advance(minutes=3)
    qtbot.mouseClick(window.sessions.start_buttons[1], Qt.MouseButton.LeftButton)
    assert window.screen == "sessions"
    assert "left open on workstation 'alice@ws-7'" in window.sessions.message_label.text()
    assert window.sessions.take_over_button.isVisible()
    engine = window.engine
    assert "lease.taken_over" not in [r["action"] for r in engine.store.audit_rows()]
    qtbot.mouseClick(window.sessions.take_over_button, Qt.MouseButton.LeftButton)
    assert window.screen == "triage"
    rows = [r for r in engine.store.audit_rows() if r["action"] == "lease.taken_over"]
    assert len(rows) == 1 and json.loads(rows[0]["payload"])["from_workstation"] == "alice@ws-7"
