"""A partial answer (a likelihood set, a class picked, a split begun, a value typed) is kept when
the reader leaves the case unanswered (Exit, window closed) and is on screen again at Resume;
it is the reader's own input only: another reader, another session and a submitted read never
bring it back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from study.engine import ReadSubmission, SessionView
from study.errors import StudyError
from tests.reading.helpers import PIN, make_study


def signed_in(qtbot, engine, mono):
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    assert window.login_state.login("r1", PIN) == "r1"
    window.on_logged_in("r1")
    return window


def start(qtbot, window, index: int = 1):
    qtbot.mouseClick(window.sessions.start_buttons[index], Qt.MouseButton.LeftButton)
    screen = window.reading
    qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    return screen


def exit_and_resume(qtbot, window, screen, mono):
    case = screen.state.item.case_id
    mono.advance(3)  # the sitting had time on screen
    qtbot.mouseClick(screen.exit_button, Qt.MouseButton.LeftButton)
    assert window.screen == "sessions"
    screen = start(qtbot, window)
    assert screen.state.item.case_id == case  # resume at the case left unanswered
    return screen


def test_a_binary_likelihood_set_but_not_submitted_is_back_at_resume(qtbot, engine_factory, mono, tmp_path):
    window = signed_in(qtbot, engine_factory(make_study(tmp_path / "b", "binary")), mono)
    screen = start(qtbot, window)
    for _ in range(3):
        qtbot.keyClick(screen, Qt.Key.Key_Up)  # 55, 60, 65: likelihood only, no category yet
    assert screen.state.answer.confidence == 65 and not screen.state.can_submit
    screen = exit_and_resume(qtbot, window, screen, mono)
    answer, panel = screen.state.answer, screen.answer_panel
    assert answer.confidence == 65 and answer.label_index is None
    assert panel.confidence_value.text() == "65" and panel.slider.value() == 65
    assert panel.slider.property("unset") is False  # the thumb is drawn where the reader left it
    qtbot.keyClick(screen, Qt.Key.Key_2)
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert screen.state.submitted[-1].confidence == 65.0 and screen.state.submitted[-1].answer == "1"


@pytest.mark.parametrize(
    ("kind", "keys", "check"),
    [
        ("multiclass", [Qt.Key.Key_3], lambda a: a.index == 2),
        ("grade_distribution", [Qt.Key.Key_4], lambda a: a.index == 3 and not a.split_mode),
        ("numeric", [Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_Period, Qt.Key.Key_5], lambda a: a.text == "12.5"),
    ],
)
def test_every_answer_kind_keeps_its_partial_input(qtbot, engine_factory, mono, tmp_path, kind, keys, check):
    window = signed_in(qtbot, engine_factory(make_study(tmp_path / kind, kind)), mono)
    screen = start(qtbot, window)
    target = getattr(screen.answer_panel, "field", None) or screen
    for key in keys:
        qtbot.keyClick(target, key)
    assert check(screen.state.answer)
    screen = exit_and_resume(qtbot, window, screen, mono)
    assert check(screen.state.answer)
    if kind == "numeric":
        assert screen.answer_panel.field.text() == "12.5"


def test_a_split_begun_over_the_grades_is_kept(qtbot, engine_factory, mono, tmp_path):
    window = signed_in(qtbot, engine_factory(make_study(tmp_path / "g", "grade_distribution")), mono)
    screen = start(qtbot, window)
    panel = screen.answer_panel
    qtbot.mouseClick(panel.split_button, Qt.MouseButton.LeftButton)
    panel.spins[0].setValue(30)
    panel.spins[2].setValue(40)  # 70 %: not complete, cannot be submitted
    assert screen.state.answer.split_mode and not screen.state.can_submit
    screen = exit_and_resume(qtbot, window, screen, mono)
    answer, panel = screen.state.answer, screen.answer_panel
    assert answer.split_mode and answer.shares == [30, 0, 40, 0, 0]
    assert panel.split_button.isChecked() and [s.value() for s in panel.spins] == [30, 0, 40, 0, 0]


def test_drafts_are_the_readers_own_and_end_with_the_read(engine_factory, tmp_path):
    folder = make_study(tmp_path / "s", "binary", design="crossover")
    folder.put_ai()  # crossover session 1 holds aided cases
    engine = engine_factory(folder)
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    mine = SessionView(engine.start("r1", 1))
    item = mine.next_item()
    mine.leave(ReadSubmission(item.case_id, "", at, at, 2000), {"label": None, "confidence": 70})
    assert mine.draft(item.case_id) == {"label": None, "confidence": 70}
    # another reader never gets it
    other = SessionView(engine.start("r2", 1))
    assert other.draft(item.case_id) is None
    # leaving again with nothing entered clears it; a submitted read ends it
    mine.leave(ReadSubmission(item.case_id, "", at, at, 1000), None)
    assert mine.draft(item.case_id) is None
    mine.leave(ReadSubmission(item.case_id, "", at, at, 1000), {"label": 1, "confidence": 70})
    mine.submit(ReadSubmission(item.case_id, "1", at, at, 1000, confidence=70.0))
    assert mine.draft(item.case_id) is None
    with pytest.raises(StudyError, match="not JSON"):
        mine.leave(ReadSubmission(item.case_id, "", at, at, 1000), {"x": float("nan")})
