"""Failures the reader must survive: unreadable media, a session taken over elsewhere."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.store import reads_table
from tests.reading.helpers import PIN, open_session


def _reading(qtbot, engine, mono):
    return open_session(qtbot, engine, mono)


def test_unreadable_case_is_skipped_and_recorded(qtbot, engine_factory, study, mono):
    engine = engine_factory(study)
    order = engine.start("r1", 1)
    first = order.next_item()
    order.close()
    for path in first.media.values():
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n truncated")
    window, screen = _reading(qtbot, engine, mono)
    assert screen.state.item.position == 2  # the unreadable first case was skipped
    notice = screen.notice_label.text()
    assert "1 case could not be opened and was skipped" in notice
    assert first.case_id not in notice and "media" not in notice
    assert screen.centre.currentWidget() is screen.viewer
    assert screen.state.progress() == (1, 4)
    events = [r for r in engine.store.audit_rows() if r["action"] == "case.unavailable"]
    assert len(events) == 1
    while screen.state.item is not None:
        qtbot.waitUntil(lambda: screen.state.item is None or not screen.state.loading)
        for key in (Qt.Key.Key_1, Qt.Key.Key_Down, Qt.Key.Key_Return):
            qtbot.keyClick(screen, key)
    assert window.screen == "summary" and "Skipped (could not be opened): 1" in window.summary.lines_label.text()
    assert first.case_id not in set(reads_table(study.path)["case"]) and len(reads_table(study.path)) == 3


def test_session_taken_over_keeps_the_answer_on_screen(qtbot, engine_factory, study, mono, now):
    window, screen = _reading(qtbot, engine_factory(study), mono)
    qtbot.keyClick(screen, Qt.Key.Key_2)
    qtbot.keyClick(screen, Qt.Key.Key_Up)
    now.advance(minutes=10)  # this workstation stopped heart-beating; the lease expired
    other = engine_factory(study).start("r1", 1, workstation="ws-2", take_over=True)
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert "workstation 'ws-2'" in screen.problem_label.text() and screen.state.item.position == 1
    assert screen.state.answer.complete  # nothing the reader entered is thrown away: it stays shown
    assert not screen.state.clock_running  # this window stopped (tests/reading/test_reading_windows.py)
    assert reads_table(study.path).empty
    window.on_heartbeat()  # nothing left to renew
    qtbot.mouseClick(screen.exit_button, Qt.MouseButton.LeftButton)
    assert window.screen == "sessions" and "workstation 'ws-2'" in window.sessions.message_label.text()
    other.close()


def test_session_open_elsewhere_is_refused_with_the_engine_message(qtbot, engine_factory, study, mono):
    elsewhere = engine_factory(study).start("r1", 1, workstation="ws-9")
    window = MainWindow(engine_factory(study), clock=mono)
    qtbot.addWidget(window)
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    qtbot.mouseClick(window.sessions.start_buttons[1], Qt.MouseButton.LeftButton)
    assert window.screen == "sessions" and window.session is None
    assert "open on workstation 'ws-9'" in window.sessions.message_label.text()
    elsewhere.close()
    qtbot.mouseClick(window.sessions.start_buttons[1], Qt.MouseButton.LeftButton)
    assert window.screen == "reading"
