"""ReadingState on the real engine and store, no Qt: timing, pause, CAM time, time limit, resume."""

from __future__ import annotations

import pytest

from app.reading.reading_state import ReadingState, feedback_text, format_duration
from study.store import reads_table
from tests.reading.helpers import make_study


def _start(engine_factory, folder, mono, now, index=1, reader="r1"):
    engine = engine_factory(folder)
    session = engine.start(reader, index)
    state = ReadingState(session, engine.protocol, clock=mono, now=now)
    return engine, session, state


def test_clock_starts_when_drawn_and_pause_stops_it(engine_factory, study, mono, now):
    _, _, state = _start(engine_factory, study, mono, now)
    item = state.start()
    assert item is not None and item.position == 1 and state.loading
    mono.advance(5)  # loading time is not reading time
    state.media_shown()
    mono.advance(3)
    state.set_paused(True)
    assert not state.key("1")  # no answering behind the pause screen
    mono.advance(100)
    state.set_paused(False)
    mono.advance(2)
    state.key("2"), state.key("up")
    now.advance(seconds=7)
    read = state.submit()
    assert read.active_ms == 5000
    assert read.answer == "1" and read.confidence == 55  # one step up from the neutral 50
    assert read.ai_shown_ms == 0 and not read.cam_shown  # unaided
    assert read.submitted_at > read.displayed_at
    assert state.item is not None and state.item.position == 2


def test_submit_refuses_without_answer_and_commits_before_next(engine_factory, study, mono, now):
    _, _, state = _start(engine_factory, study, mono, now)
    state.start()
    state.media_shown()
    with pytest.raises(ValueError, match="Choose an answer"):
        state.submit()
    first = state.item.case_id
    state.key("1"), state.key("down")
    state.submit()
    df = reads_table(study.path)
    assert list(df["case"]) == [first]  # committed when submit returned
    assert state.progress() == (1, 4)


def test_aided_cam_time_and_ai_time(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", design="concurrent")
    folder.put_ai()
    _, _, state = _start(engine_factory, folder, mono, now)
    state.start()
    assert state.ai is None  # known once the case is drawn, fetched with its media
    state.media_shown()
    assert state.aided and state.has_cam and not state.cam_visible
    mono.advance(2)
    assert state.toggle_cam() and state.cam_visible
    mono.advance(3)
    state.set_paused(True)  # the CAM clock stops with the case clock
    mono.advance(50)
    state.set_paused(False)
    mono.advance(1)
    state.toggle_cam()
    mono.advance(4)
    state.key("1"), state.key("up")
    read = state.submit()
    assert (read.active_ms, read.ai_shown_ms, read.cam_shown, read.cam_shown_ms) == (10000, 10000, True, 4000)
    # The reader's CAM preference (off now) carries over; the next case starts without CAM time.
    state.media_shown()
    mono.advance(1)
    state.key("1"), state.key("up")
    read = state.submit()
    assert not read.cam_shown and read.cam_shown_ms == 0


def test_unaided_session_never_gets_ai(engine_factory, study, mono, now):
    study.put_ai()  # outputs exist in the store, but session 1 is unaided
    _, _, state = _start(engine_factory, study, mono, now)
    state.start()
    assert state.ai is None and not state.has_cam and not state.toggle_cam()


def test_time_limit_stops_the_clock(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", time_limit_seconds=30)
    _, _, state = _start(engine_factory, folder, mono, now)
    state.start()
    state.media_shown()
    mono.advance(29)
    assert not state.tick() and state.time_left_s() == pytest.approx(1)
    mono.advance(5)
    assert state.tick() and state.time_up and not state.clock_running
    mono.advance(60)
    state.key("1"), state.key("up")  # still allowed to answer
    assert state.submit().active_ms == 34000  # measured until the tick that noticed


def test_resume_starts_at_first_unanswered(engine_factory, study, mono, now):
    engine, session, state = _start(engine_factory, study, mono, now)
    state.start()
    for _ in range(2):
        state.media_shown()
        state.key("2"), state.key("up")
        state.submit()
    third = state.item
    session.close()
    engine.close()
    engine2 = engine_factory(study)
    state2 = ReadingState(engine2.start("r1", 1), engine2.protocol, clock=mono, now=now)
    assert state2.start() == third and state2.progress() == (2, 4)


def test_summary_and_feedback(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", n=2, feedback=True)
    engine, _, state = _start(engine_factory, folder, mono, now)
    state.start()
    while not state.finished:
        state.media_shown()
        mono.advance(4)
        truth = folder.truths[state.item.case_id]
        state.key("2" if truth == "1" else "1"), state.key("up")
        state.submit()
    s = state.summary()
    assert (s.cases_read, s.active_ms, s.done, s.total) == (2, 8000, 2, 2)
    text = feedback_text(engine.protocol, lambda c: engine.case(c).truth, state.submitted)
    assert text == "Correct: 2 of 2 (100 %)"
    no_feedback = make_study(tmp_path / "t", n=2).protocol
    assert feedback_text(no_feedback, lambda c: "1", state.submitted) == ""
    assert format_duration(3_725_000) == "1:02:05" and format_duration(65_000) == "1:05"
