"""Issue 10: answers must not be biased by the interface (real widgets, real keys and clicks).

* the likelihood slider shows no thumb until the reader rates the case, the
  first arrow leans one step from the neutral midpoint, a click on the track
  goes to the point clicked;
* answer keys reach the answer form whatever has focus (viewer, heat-map
  button, numeric field); the key card (F1 / ?) lists every key;
* a category contradicting the likelihood is warned about (or blocked) and the
  outcome is stored with the read.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSlider
from sqlalchemy import select

from app.viewer.keys import viewer_keys_for
from study.engine import ReadSubmission
from study.errors import StudyError
from study.store import Store
from study.store.schema import ReadRow
from tests.reading.helpers import make_study, open_session

HANDLE_RGB = (0xE6, 0xE9, 0xED)  # style.qss: the thumb of a set slider


def screen_for(qtbot, engine_factory, mono, tmp_path, kind="binary", *, index=1, ai=False, consistency=None, **kw):
    folder = make_study(tmp_path / kind, kind, **kw)
    if consistency is not None:
        toml = folder.path / "study.toml"
        toml.write_text(toml.read_text().replace('consistency = "warn"', f'consistency = "{consistency}"'))
    if ai:
        folder.put_ai()
    engine = engine_factory(folder)
    if index == 2:
        engine.override_washout("r1", 2, "test: aided read right away")
        session = engine.start("r1", 1)
        while (item := session.next_item()) is not None:
            session.submit(quick_read(item))
        session.close()
    window, screen = open_session(qtbot, engine, mono, index=index)
    return folder, window, screen


def quick_read(item) -> ReadSubmission:
    """A consistent binary read ("malignant" at 80) of ``item``, for setting up a later session."""
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    return ReadSubmission(item.case_id, "1", at, at, 1000, confidence=80.0)


def thumb_pixels(slider) -> int:
    img = slider.grab().toImage()
    arr = np.array([[img.pixelColor(x, y).getRgb()[:3] for x in range(img.width())] for y in range(img.height())])
    return int((np.abs(arr - np.array(HANDLE_RGB)).sum(axis=2) < 30).sum())


def x_of(slider, value: int) -> int:
    """Where on the slider ``value`` sits (the handle's centre), from the style's own geometry."""
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    style = slider.style()
    groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider)
    handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider)
    span = groove.width() - handle.width()
    return (
        groove.x()
        + QStyle.sliderPositionFromValue(slider.minimum(), slider.maximum(), value, span)
        + handle.width() // 2
    )


def click_slider(qtbot, slider, value: int) -> None:
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x_of(slider, value), slider.height() // 2))


def next_case(qtbot, screen):
    position = screen.state.item.position
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.state.item.position != position and not screen.state.loading)


# -- the likelihood slider ----------------------------------------------------------


def test_new_case_shows_no_thumb_and_nothing_of_the_last_rating(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path)
    panel = screen.answer_panel
    slider = panel.slider
    assert slider.property("unset") is True and thumb_pixels(slider) == 0
    qtbot.keyClick(screen, Qt.Key.Key_2)
    click_slider(qtbot, slider, 85)
    assert screen.state.answer.confidence == 85 and slider.value() == 85
    assert thumb_pixels(slider) > 20  # the detector sees a drawn thumb
    next_case(qtbot, screen)
    assert panel.confidence_value.text() == "not set" and screen.state.answer.confidence is None
    assert slider.property("unset") is True and slider.value() == panel.neutral == 50  # not 85
    assert thumb_pixels(slider) == 0


@pytest.mark.parametrize(("key", "expected"), [(Qt.Key.Key_Up, 55), (Qt.Key.Key_Down, 45)])
def test_first_arrow_leans_one_step_from_neutral(qtbot, engine_factory, mono, tmp_path, key, expected):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path)
    qtbot.keyClick(screen, Qt.Key.Key_2)
    click_slider(qtbot, screen.answer_panel.slider, 90)
    next_case(qtbot, screen)  # the last case ended at 90: the first key must not start from there
    qtbot.keyClick(screen, key)
    assert screen.state.answer.confidence == expected
    assert screen.answer_panel.slider.value() == expected and screen.answer_panel.confidence_value.text() == str(
        expected
    )


@pytest.mark.parametrize("value", [10, 37, 80, 100])
def test_click_on_the_track_goes_to_the_point_clicked(qtbot, engine_factory, mono, tmp_path, value):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path)
    click_slider(qtbot, screen.answer_panel.slider, value)
    assert screen.state.answer.confidence == value  # not one page step from 50


def test_click_on_the_resting_point_sets_it(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path)
    click_slider(qtbot, screen.answer_panel.slider, 50)  # where the hidden thumb rests
    assert screen.state.answer.confidence == 50 and screen.answer_panel.slider.property("unset") is False


# -- keys reach the answer form whatever has focus ------------------------------------


def click_image(qtbot, screen):
    vp = screen.viewer.viewports()[0]
    vp.stop()
    target = vp.graphics if hasattr(vp, "graphics") else vp
    qtbot.mouseClick(
        target.viewport() if hasattr(target, "viewport") else target,
        Qt.MouseButton.LeftButton,
        pos=QPoint(target.width() // 2, target.height() // 2),
    )
    return vp


def test_arrows_after_clicking_the_image_set_the_likelihood_not_the_frame(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, roles=("video",), n=2)
    vp = click_image(qtbot, screen)
    assert screen.focusWidget() is not None and screen.focusWidget() is not screen  # the image took focus
    frame = vp.current_index
    for _ in range(3):
        qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_Up)
    assert screen.state.answer.confidence == 65 and vp.current_index == frame
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_2)
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_PageDown)  # a viewer key still reaches the viewer
    assert vp.current_index != frame
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_Return)
    assert screen.state.submitted and screen.state.submitted[-1].confidence == 65.0


def test_left_right_choose_the_grade_not_the_frame(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, "grade_distribution", roles=("video",), n=2)
    vp = click_image(qtbot, screen)
    frame = vp.current_index
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_Right)
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_Right)
    assert screen.state.answer.index == 1 and vp.current_index == frame
    buttons = screen.answer_panel.choice_group.buttons()
    assert buttons[1].isChecked()


def test_heat_map_key_and_digits_whatever_has_focus(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, index=2, ai=True)
    assert screen.state.item.mode == "aided" and screen.state.has_cam
    vps = screen.viewer.viewports()
    # C from the image (the viewer once toggled only its own overlay, or nothing)
    click_image(qtbot, screen)
    before = screen.state.cam_visible
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_C)
    assert screen.state.cam_visible is (not before) and screen.ai_panel.cam_button.isChecked() is (not before)
    assert all(vp.overlay.enabled is (not before) for vp in vps)
    # after a click on "Heat map", digits still reach the answer
    qtbot.mouseClick(screen.ai_panel.cam_button, Qt.MouseButton.LeftButton)
    assert screen.state.cam_visible is before
    target = screen.focusWidget() or screen
    qtbot.keyClick(target, Qt.Key.Key_2)
    assert screen.state.answer.label_index == 1
    qtbot.keyClick(target, Qt.Key.Key_C)
    assert screen.state.cam_visible is (not before)


def test_numeric_digits_typed_on_the_image_go_into_the_field(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, "numeric")
    field = screen.answer_panel.field
    qtbot.keyClick(field, Qt.Key.Key_Up)  # empty: no value is invented (it used to give 3.0)
    assert field.text() == "" and screen.state.answer.text == ""
    assert screen.problem_label.text().startswith("Type a value")
    click_image(qtbot, screen)
    assert screen.focusWidget() is not field
    qtbot.keyClicks(screen.focusWidget(), "12.5")
    assert field.text() == "12.5" and screen.state.answer.value == 12.5
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "12.6"
    click_image(qtbot, screen)
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_Return)
    assert screen.state.submitted[-1].value == 12.6


def test_key_card_lists_answer_screen_and_viewer_keys(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, index=2, ai=True)
    click_image(qtbot, screen)
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_F1)
    card = screen.keys_dialog
    assert card is not None and card.isVisible()
    qtbot.addWidget(card)
    texts = "\n".join(card.texts())
    for words in (
        "benign",
        "malignant",
        "likelihood of malignant up",
        "submit",
        "pause",
        "heat map",
        "this card",
        "F1",
        "?",
    ):
        assert words in texts
    viewer_texts = [d for _, d in card.sections["Viewer"]]
    # every viewer binding that acts on this case is listed except the arrows this answer form
    # takes first, and C / P, which the screen's own section lists (heat map, pause)
    shown = viewer_keys_for(screen.viewer.key_features())
    assert viewer_texts == [d for k, d in shown if k not in ("Up", "Down", "Left", "Right", "C", "P")]
    assert viewer_texts and all(d in texts for d in viewer_texts)
    assert "\u2191" in texts and "\u2190" in texts
    qtbot.keyClick(card, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    assert not card.isVisible()
    qtbot.keyClick(screen, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    assert screen.keys_dialog.isVisible()
    screen.keys_dialog.close()


# -- category vs likelihood -------------------------------------------------------------


def stored(folder) -> list[tuple[str, float, str]]:
    store = Store.open(folder.path)
    try:
        with store.Session() as s:
            return [
                (r.answer, r.confidence, r.consistency)
                for r in s.execute(select(ReadRow).order_by(ReadRow.id)).scalars()
            ]
    finally:
        store.close()


def test_contradiction_is_warned_then_recorded(qtbot, engine_factory, mono, tmp_path):
    folder, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, n=2)
    qtbot.keyClick(screen, Qt.Key.Key_1)  # benign ...
    click_slider(qtbot, screen.answer_panel.slider, 75)  # ... at 75 % likelihood of malignant
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert screen.state.item.position == 1 and not screen.state.submitted  # not yet
    warning = screen.problem_label.text()
    assert "benign" in warning and "75" in warning and "Enter again" in warning
    qtbot.keyClick(screen, Qt.Key.Key_Return)  # confirmed as it is
    qtbot.waitUntil(lambda: screen.state.item is None or not screen.state.loading)
    assert stored(folder) == [("0", 75.0, "contradictory")]
    qtbot.keyClick(screen, Qt.Key.Key_2)
    click_slider(qtbot, screen.answer_panel.slider, 5)
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    qtbot.keyClick(screen, Qt.Key.Key_Down)  # a change after the warning: the warning starts over
    assert screen.state.answer.confidence == 0 and "Enter again" not in screen.problem_label.text()
    qtbot.keyClick(screen, Qt.Key.Key_1)  # benign at 0: consistent, submitted at once
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert stored(folder)[1:] == [("0", 0.0, "consistent")]


def test_contradiction_is_blocked_when_the_protocol_says_so(qtbot, engine_factory, mono, tmp_path):
    folder, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path, n=2, consistency="block")
    qtbot.keyClick(screen, Qt.Key.Key_2)  # malignant ...
    click_slider(qtbot, screen.answer_panel.slider, 5)  # ... at 5 %
    for _ in range(3):
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert not screen.state.submitted and "Change the answer or the likelihood" in screen.problem_label.text()
    assert stored(folder) == []
    click_slider(qtbot, screen.answer_panel.slider, 70)
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert stored(folder) == [("1", 70.0, "consistent")]


def test_engine_refuses_a_contradiction_in_block_mode(engine_factory, tmp_path, now):
    folder = make_study(tmp_path / "b", n=2)
    toml = folder.path / "study.toml"
    toml.write_text(toml.read_text().replace('consistency = "warn"', 'consistency = "block"'))
    engine = engine_factory(folder)
    session = engine.start("r1", 1)
    item = session.next_item()
    bad = ReadSubmission(item.case_id, "1", now(), now(), 1000, confidence=5.0)
    with pytest.raises(StudyError, match="task.consistency"):
        session.submit(bad)
    assert stored(folder) == []
    session.close()


def test_press_then_drag_moves_the_rating(qtbot, engine_factory, mono, tmp_path):
    _, _window, screen = screen_for(qtbot, engine_factory, mono, tmp_path)
    slider = screen.answer_panel.slider
    y = slider.height() // 2
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=QPoint(x_of(slider, 20), y))
    assert screen.state.answer.confidence == 20  # the press alone sets the point pressed
    qtbot.mouseMove(slider, QPoint(x_of(slider, 70), y))
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(x_of(slider, 70), y))
    assert screen.state.answer.confidence == 70 and slider.value() == 70


def test_a_focused_number_field_keeps_letters_and_ctrl_a(qtbot, engine_factory, mono, tmp_path):
    """Typing in the haemoglobin field: "c" does not toggle the heat map, "a" is not swallowed, Ctrl+A
    selects all; Enter still submits."""
    folder = make_study(tmp_path / "numeric", "numeric")
    folder.put_ai()
    engine = engine_factory(folder)
    engine.override_washout("r1", 2, "test: aided read right away")
    session = engine.start("r1", 1)
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    while (item := session.next_item()) is not None:
        session.submit(ReadSubmission(item.case_id, "9.1", at, at, 1000, value=9.1))
    session.close()
    _window, screen = open_session(qtbot, engine, mono, index=2)
    assert screen.state.item.mode == "aided" and screen.state.has_cam
    field = screen.answer_panel.field
    cam = screen.state.cam_visible
    click_image(qtbot, screen)  # outside the field, C is the heat map's
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_C)
    assert screen.state.cam_visible is (not cam)
    cam = screen.state.cam_visible
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(field, "9,5ca")
    assert field.text() == "9,5ca" and screen.state.cam_visible is cam  # letters are the field's
    qtbot.keyClick(field, Qt.Key.Key_P)
    assert field.text() == "9,5cap" and not screen.state.paused
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert field.selectedText() == "9,5cap"
    qtbot.keyClicks(field, "12.5")  # replaces the selection
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClick(field, Qt.Key.Key_Minus)
    assert field.text() == "12.-" and screen.state.cam_visible is cam
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClick(field, Qt.Key.Key_5)
    assert screen.state.answer.value == 12.5
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert screen.state.submitted[-1].value == 12.5
