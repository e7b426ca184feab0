"""Failures the reader must survive: unreadable media, a session taken over elsewhere."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.store import reads_table
from tests.reading.helpers import PIN


def _reading(qtbot, engine, mono):
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    window.on_session_chosen(1)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    return window, screen


def test_unreadable_media_says_so_without_path(qtbot, engine_factory, study, mono):
    engine = engine_factory(study)
    order = engine.start("r1", 1)
    first = order.next_item()
    order.close()
    for path in first.media.values():
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n truncated")
    window, screen = _reading(qtbot, engine, mono)
    assert screen.state.item.case_id == first.case_id
    text = screen.cover_label.text()
    assert screen.centre.currentWidget() is screen.cover_label and "could not be shown" in text
    assert first.case_id not in text and "media" not in text and str(study.path) not in text
    qtbot.keyClick(screen, Qt.Key.Key_1)  # the rest of the study still works
    qtbot.keyClick(screen, Qt.Key.Key_Up)
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.state.item.position == 2 and not screen.state.loading)
    assert screen.centre.currentWidget() is screen.viewer
    assert len(reads_table(study.path)) == 1


def test_session_taken_over_keeps_the_answer_on_screen(qtbot, engine_factory, study, mono, now):
    window, screen = _reading(qtbot, engine_factory(study), mono)
    qtbot.keyClick(screen, Qt.Key.Key_2)
    qtbot.keyClick(screen, Qt.Key.Key_Up)
    now.advance(minutes=10)  # this workstation stopped heart-beating; the lease expired
    other = engine_factory(study).start("r1", 1, workstation="ws-2")
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert "taken over" in screen.problem_label.text() and screen.state.item.position == 1
    assert screen.state.answer.complete  # nothing the reader entered is thrown away
    assert screen.state.clock_running
    assert reads_table(study.path).empty
    window.on_heartbeat()
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
