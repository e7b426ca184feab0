"""The session list on screen when no model is attached: the aided session has no Start
button and says why; a start forced anyway is refused by the engine, in words, and nothing is
read; once a model and its outputs are there, Refresh opens it with the AI on screen."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.main_window import MainWindow
from tests.reading.helpers import make_study

NO_MODEL = "needs the AI's outputs: no model attached (Study administration \u2192 Model)"


def _status_labels(window) -> list[QLabel]:
    return [lbl for lbl in window.sessions.rows_box.findChildren(QLabel) if lbl.objectName() == "sessionStatus"]


def test_session_list_keeps_the_aided_session_closed_without_a_model(qtbot, engine_factory, tmp_path, mono):
    folder = make_study(tmp_path / "s", n=2)
    engine = engine_factory(folder)
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    window.login_state.login("r1", "2468")
    window.on_logged_in("r1")
    window.on_session_chosen(1)
    for _ in range(2):
        qtbot.waitUntil(lambda: not window.reading.state.loading)
        for key in (Qt.Key.Key_1, Qt.Key.Key_Down, Qt.Key.Key_Return):
            qtbot.keyClick(window.reading, key)
    window.summary.back_requested.emit()
    engine.override_washout("r1", 2, "x")  # the newcomer's steps: washout waived, no model attached
    qtbot.mouseClick(window.sessions.refresh_button, Qt.MouseButton.LeftButton)

    sessions = window.sessions
    assert list(sessions.start_buttons) == []  # neither the done session nor the aided one
    status = _status_labels(window)[1]
    qtbot.waitUntil(status.isVisible)
    assert status.text() == NO_MODEL
    assert status.property("locked") is True  # shown in the closed colour, not as a success
    qtbot.waitUntil(lambda: status.width() > 0)
    assert status.height() >= status.heightForWidth(status.width())  # the reason is read in full
    assert not sessions.ai_poll.isActive()  # nothing is being computed: no polling
    if os.environ.get("READERSTUDY_SHOTS"):
        window.grab().save(os.path.join(os.environ["READERSTUDY_SHOTS"], "session_list_no_model.png"))

    # A start forced past the list (a stale button, a script): the engine refuses, the list says why.
    window.on_session_chosen(2)
    assert window.screen == "sessions" and window.stack.currentWidget() is sessions
    assert sessions.message_label.isVisible()
    assert sessions.message_label.text() == f"Session 2 (aided) {NO_MODEL}."
    assert [s.mode for s in engine.sittings("r1")] == ["unaided", "unaided"]

    folder.put_ai()  # the admin attaches a model and precomputes
    qtbot.mouseClick(sessions.refresh_button, Qt.MouseButton.LeftButton)
    assert list(sessions.start_buttons) == [2] and _status_labels(window)[1].text() == "not started \u00b7 2 cases"
    qtbot.mouseClick(sessions.start_buttons[2], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.reading is not None and not window.reading.state.loading)
    assert window.reading.state.item.mode == "aided" and window.reading.state.ai is not None
    assert window.reading.ai_panel.isVisible()
