"""After too many wrong PINs the login screen says the reader code is locked and for how long,
and counts the lock down to the moment the reader may sign in again."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.engine import LOCKOUT, MAX_PIN_TRIES
from tests.reading.helpers import PIN, make_study


def sign_in(qtbot, window, pin, code="r1"):
    w = window.login
    w.code_field.clear()
    qtbot.keyClicks(w.code_field, code)
    qtbot.keyClicks(w.pin_field, pin)
    qtbot.keyClick(w.pin_field, Qt.Key.Key_Return)
    return w.message_label.text()


def test_the_login_screen_says_the_code_is_locked_and_counts_down(qtbot, engine_factory, mono, now, tmp_path):
    window = MainWindow(engine_factory(make_study(tmp_path / "s")), clock=mono)
    qtbot.addWidget(window)
    window.show()
    lock_s = int(LOCKOUT.total_seconds())
    for _ in range(MAX_PIN_TRIES - 1):
        text = sign_in(qtbot, window, "9999")
        assert "wrong PIN" in text and "locked" not in text
    text = sign_in(qtbot, window, "9999")  # the try that locks the code says so at once
    assert "locked" in text and f"{lock_s} s" in text and "r1" in text
    label = window.login.message_label
    assert label.isVisible()
    mono.advance(15)
    qtbot.waitUntil(lambda: f"Try again in {lock_s - 15} s" in label.text(), timeout=3000)
    # the right PIN meanwhile is refused, and the screen still says how long is left
    now.advance(seconds=20)
    text = sign_in(qtbot, window, PIN)
    assert window.screen == "login" and "locked" in text and f"{lock_s - 20} s" in text
    mono.advance(lock_s)
    qtbot.waitUntil(lambda: "sign in again" in label.text(), timeout=3000)
    assert not window.login.lock_timer.isActive()
    now.advance(seconds=lock_s)
    sign_in(qtbot, window, PIN)
    assert window.screen == "sessions"


def test_a_new_message_ends_the_countdown(qtbot, engine_factory, mono, tmp_path):
    window = MainWindow(engine_factory(make_study(tmp_path / "s")), clock=mono)
    qtbot.addWidget(window)
    window.show()
    for _ in range(MAX_PIN_TRIES):
        sign_in(qtbot, window, "9999")
    assert window.login.lock_timer.isActive()
    text = sign_in(qtbot, window, "9999", code="r2")  # another reader at the same workstation
    assert text == "Unknown reader code or wrong PIN." and not window.login.lock_timer.isActive()
