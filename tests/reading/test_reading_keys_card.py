"""The key card (F1 / ?): it closes on Esc and on the key that opened it, wherever the keyboard
is, and lists only the keys that act on the study and case on screen."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

from tests.reading.helpers import make_study, open_session


def card_for(qtbot, engine_factory, mono, tmp_path, kind="binary"):
    engine = engine_factory(make_study(tmp_path / kind, kind))
    window, screen = open_session(qtbot, engine, mono)
    qtbot.keyClick(screen, Qt.Key.Key_F1)
    card = screen.keys_dialog
    assert card is not None and card.isVisible()
    return window, screen, card


def test_esc_closes_the_card_when_the_screen_kept_the_keyboard(qtbot, engine_factory, mono, tmp_path):
    # Without a window manager the card may never get focus: Esc then reaches the reading screen.
    _window, screen, card = card_for(qtbot, engine_factory, mono, tmp_path)
    qtbot.keyClick(screen.focusWidget() or screen, Qt.Key.Key_Escape)
    assert not card.isVisible()
    # the next key is an answer again, not swallowed by the closed card
    qtbot.keyClick(screen.focusWidget() or screen, Qt.Key.Key_2)
    assert screen.state.answer.label_index == 1


def test_esc_f1_and_question_mark_typed_on_the_card_close_it(qtbot, engine_factory, mono, tmp_path):
    _window, screen, card = card_for(qtbot, engine_factory, mono, tmp_path)
    qtbot.keyClick(card, Qt.Key.Key_Escape)
    assert not card.isVisible()
    for key, mods in (
        (Qt.Key.Key_F1, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier),
    ):
        qtbot.keyClick(screen, Qt.Key.Key_F1)
        card = screen.keys_dialog
        assert card.isVisible()
        qtbot.keyClick(card, key, mods)
        assert not card.isVisible()


def test_the_card_asks_for_the_keyboard_and_gives_it_back(qtbot, engine_factory, mono, tmp_path):
    _window, screen, card = card_for(qtbot, engine_factory, mono, tmp_path)
    qtbot.waitUntil(lambda: card.isActiveWindow())
    qtbot.keyClick(card, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: screen.window().isActiveWindow())


def test_esc_without_the_card_is_left_to_the_widgets(qtbot, engine_factory, mono, tmp_path):
    _window, screen, card = card_for(qtbot, engine_factory, mono, tmp_path)
    card.close()
    esc = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    assert not screen.handle_key(esc)
