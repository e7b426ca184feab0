"""The key card (F1 / ?): it closes on Esc and on the key that opened it, wherever the keyboard
is, and lists only the keys that act on the study and case on screen."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

from app.reading.keys_dialog import answer_keys, viewer_keys
from study.protocol import Task
from tests.reading.helpers import make_study, open_session


def card_for(qtbot, engine_factory, mono, tmp_path, kind="binary", **kw):
    engine = engine_factory(make_study(tmp_path / kind, kind, **kw))
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


def keys_of(card, section: str) -> set[str]:
    return {k for k, _ in card.sections[section]}


def test_a_single_photo_lists_no_slice_cine_mask_or_layout_keys(qtbot, engine_factory, mono, tmp_path):
    _window, screen, card = card_for(qtbot, engine_factory, mono, tmp_path)
    viewer = keys_of(card, "Viewer")
    assert viewer == {"W", "R"}  # a greyscale photo: window presets and reset act, nothing else
    texts = "\n".join(card.texts())
    for absent in ("mask", "AI's region", "cine", "slice", "maximise", "link"):
        assert absent not in texts
    assert not ({"A", "O"} & (keys_of(card, "Answer") | keys_of(card, "Screen")))


def test_two_viewports_with_a_clip_list_frame_cine_and_maximise_keys(qtbot, engine_factory, mono, tmp_path):
    _window, screen, card = card_for(qtbot, engine_factory, mono, tmp_path, roles=("photo", "video"))
    viewer = keys_of(card, "Viewer")
    assert {"Page Down", ".", ",", "Home", "End", "K", "]", "[", "M", "W", "R"} <= viewer
    assert not {"A", "O", "L"} & viewer  # no mask; a photo and a clip never scroll together
    assert "Mouse wheel over an image" in "\n".join(card.texts())


def test_a_region_task_lists_the_ai_region_keys_in_aided_reads_only():
    task = Task("region", "Outline the FAZ", region="FAZ")
    assert {"A", "O"} <= {k for k, _ in answer_keys(task, aided=True)}
    assert not {"A", "O"} & {k for k, _ in answer_keys(task, aided=False)}
    # and never as viewer keys of a region task: the screen takes A / O for the region
    assert not {"A", "O"} & {k for k, _ in viewer_keys(task, frozenset({"mask", "frames"}))}
