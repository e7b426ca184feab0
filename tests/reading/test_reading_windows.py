"""One session, one window: a second window on this workstation asks before it takes a live
session over; the first window then stops at its next action, keeps its unsubmitted answer on
screen (never saved) and records nothing; a crashed window's session goes on with a plain note."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.store import reads_table
from tests.reading.helpers import PIN, open_session


def _second_window(qtbot, engine, mono):
    """r1 signs in on another window (same workstation) and presses Resume / Start."""
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", PIN)
    window.on_logged_in("r1")
    qtbot.mouseClick(window.sessions.start_buttons[1], Qt.MouseButton.LeftButton)
    return window


def _answer(qtbot, screen):
    qtbot.keyClick(screen, Qt.Key.Key_2)
    qtbot.keyClick(screen, Qt.Key.Key_Up)
    assert screen.state.answer.complete


def test_a_second_window_asks_and_cancel_changes_nothing(qtbot, engine_factory, study, mono, now):
    first, screen = open_session(qtbot, engine_factory(study), mono)
    now.advance(minutes=3)
    first.on_heartbeat()
    beat = now()
    now.advance(seconds=20)
    engine = engine_factory(study)
    audit_before = [r["action"] for r in engine.store.audit_rows()]
    second = _second_window(qtbot, engine, mono)
    dialog = second.take_over_dialog
    qtbot.waitUntil(lambda: dialog.isVisible())
    assert second.screen == "sessions" and second.session is None  # nothing has changed yet
    facts = {name: label.text() for name, label in dialog.facts.items()}
    assert facts["Workstation"] == first.session.workstation
    assert facts["Open there since"].startswith("09:00:00 UTC (3 min ago)")
    assert facts["Last heartbeat"] == f"{beat:%H:%M:%S} UTC (20 s ago)"
    assert dialog.cancel_button.isDefault()  # Enter does not stop the other window
    dialog.grab().save("/tmp/take_over_dialog.png")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "stays open in the other window" in second.sessions.message_label.text()
    assert [r["action"] for r in engine.store.audit_rows()] == [*audit_before, "reader.login"]  # the sign-in only
    _answer(qtbot, screen)  # the first window reads on
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert len(reads_table(study.path)) == 1 and screen.state.item.position == 2


def test_taking_over_stops_the_first_window_which_keeps_its_answer_on_screen(qtbot, engine_factory, study, mono, now):
    first, screen = open_session(qtbot, engine_factory(study), mono)
    _answer(qtbot, screen)  # entered, not submitted
    case = screen.state.item.case_id
    engine = engine_factory(study)
    second = _second_window(qtbot, engine, mono)
    qtbot.mouseClick(second.take_over_dialog.take_over_button, Qt.MouseButton.LeftButton)
    assert second.screen == "reading"
    qtbot.waitUntil(lambda: second.reading.state.item is not None and not second.reading.state.loading)
    assert second.reading.state.item.case_id == case
    qtbot.keyClick(screen, Qt.Key.Key_Return)  # the first window's next action
    text = screen.problem_label.text()
    assert "taken over by another window" in text and "This window stopped" in text
    assert "case 1 of 4 was not submitted, so it is not saved: it stays on this screen" in text
    assert screen.state.answer.complete and not screen.answer_panel.isEnabled()  # shown, not editable
    assert not screen.state.clock_running and not screen.submit_button.isEnabled()
    assert screen.exit_button.text() == "Back to sessions" and first.session is None
    assert (
        screen.centre.currentWidget() is screen.cover_label and "moved to another window" in screen.cover_label.text()
    )
    qtbot.waitUntil(lambda: screen.exit_button.width() >= screen.exit_button.sizeHint().width())  # relaid out
    screen.grab().save("/tmp/first_window_stopped.png")
    qtbot.keyClick(screen, Qt.Key.Key_Return)  # still nothing
    assert reads_table(study.path).empty
    qtbot.mouseClick(screen.exit_button, Qt.MouseButton.LeftButton)
    assert first.screen == "sessions" and "This window stopped" in first.sessions.message_label.text()
    assert engine.sittings("r1") == []  # the stopped window recorded no sitting either
    _answer(qtbot, second.reading)
    qtbot.keyClick(second.reading, Qt.Key.Key_Return)
    table = reads_table(study.path)
    assert list(table["case"]) == [case]
    actions = [r["action"] for r in engine.store.audit_rows()]
    assert actions.count("lease.taken_over") == 1 and engine.store.verify_chain().ok


def test_the_first_window_told_at_exit_records_nothing(qtbot, engine_factory, study, mono):
    first, screen = open_session(qtbot, engine_factory(study), mono)
    _answer(qtbot, screen)
    engine = engine_factory(study)
    second = _second_window(qtbot, engine, mono)
    second.take_over_dialog.accept()
    qtbot.mouseClick(screen.exit_button, Qt.MouseButton.LeftButton)  # Exit, no other action before
    message = first.sessions.message_label.text()
    assert first.screen == "sessions" and "taken over by another window" in message
    assert "was not submitted, so it is not saved: the case is read in the other window" in message
    assert engine.sittings("r1") == []


def test_the_heartbeat_stops_the_first_window_in_place(qtbot, engine_factory, study, mono):
    first, screen = open_session(qtbot, engine_factory(study), mono)
    second = _second_window(qtbot, engine_factory(study), mono)
    second.take_over_dialog.accept()
    first.on_heartbeat()
    assert first.screen == "reading" and screen.state.stopped and not first.heartbeat.isActive()
    assert "taken over by another window" in screen.problem_label.text()
    assert "not submitted" not in screen.problem_label.text()  # nothing was entered here: no lost answer to mourn


def test_a_crashed_window_is_taken_over_with_a_plain_note(qtbot, engine_factory, study, mono, now):
    engine_factory(study).start("r1", 1)  # the same workstation; the process dies without closing
    now.advance(minutes=3)  # no heartbeat since: it stopped
    window, screen = open_session(qtbot, engine_factory(study), mono)
    assert window.take_over_dialog is None
    assert screen.notice_label.text() == (
        "This session was left open in a window that stopped (last heartbeat 09:00 UTC); it continues here."
    )
