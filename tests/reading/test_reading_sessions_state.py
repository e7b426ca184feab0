"""Login and session list states on the real engine (no Qt): lock-out, washout words."""

from __future__ import annotations

from datetime import UTC, datetime

from app.reading.login_state import LoginState
from app.reading.reading_state import ReadingState
from app.reading.session_list_state import SessionListState, washout_text
from tests.reading.helpers import PIN

NO_MODEL_ROW = "needs the AI's outputs: no model attached (Study administration \u2192 Model)"


def test_washout_text():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert washout_text(datetime(2026, 12, 21, 12, 0, tzinfo=UTC), now) == "opens on 2026-12-21, in 28 days"
    assert washout_text(datetime(2026, 11, 24, 11, 0, tzinfo=UTC), now) == "opens on 2026-11-24, in 23 hours"
    assert washout_text(datetime(2026, 11, 23, 12, 30, tzinfo=UTC), now) == "opens on 2026-11-23, in 1 hour"


def test_login_messages_and_lockout(engine_factory, study, now):
    state = LoginState(engine_factory(study))
    assert state.login("", "") is None and "reader code and PIN" in state.message
    for _ in range(3):
        assert state.login("r1", "0000") is None
    assert state.login("r1", PIN) is None and "Try again in 60 s" in state.message
    now.advance(seconds=61)
    assert state.login(" r1 ", PIN) == "r1" and state.message == ""


def test_session_rows_through_washout(engine_factory, study, mono, now):
    engine = engine_factory(study)
    sessions = SessionListState(engine, "r1", now)
    rows = sessions.refresh()
    assert [(r.title, r.status, r.can_start, r.action) for r in rows] == [
        ("Session 1 \u2013 unaided", "not started \u00b7 4 cases", True, "Start"),
        ("Session 2 \u2013 aided", "opens 28 days after session 1 is done", False, ""),
    ]
    session = engine.start("r1", 1)
    state = ReadingState(session, engine.protocol, clock=mono, now=now)
    state.start()
    state.media_shown()
    state.key("1"), state.key("up")
    state.submit()
    assert sessions.refresh()[0].status == "in progress \u00b7 1/4" and sessions.rows[0].action == "Resume"
    while not state.finished:
        state.media_shown()
        state.key("1"), state.key("up")
        state.submit()
    session.close()
    rows = sessions.refresh()
    assert rows[0].status == "done \u00b7 4/4" and not rows[0].can_start
    assert rows[1].status == "opens on 2026-12-22, in 28 days" and not rows[1].can_start
    now.advance(days=27, hours=23)
    assert sessions.refresh()[1].status == "opens on 2026-12-22, in 1 hour"
    now.advance(hours=1)
    # The washout is over, but no model is attached: an aided read would have no AI.
    row = sessions.refresh()[1]
    assert (row.status, row.can_start, sessions.waiting_for_ai) == (NO_MODEL_ROW, False, False)
    study.put_ai()  # attaches the test model and stores its outputs
    assert sessions.refresh()[1].can_start and sessions.rows[1].action == "Start"


def test_session_row_says_when_the_washout_is_waived():
    from app.reading.session_list_state import session_row
    from study.engine import SessionInfo

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    waived = session_row(SessionInfo(2, "aided", "locked", 0, 10, washout_waived=True), now, washout_days=28)
    waiting = session_row(SessionInfo(2, "aided", "locked", 0, 10), now, washout_days=28)
    assert waived.status == "opens when session 1 is done (washout waived)"
    assert waiting.status == "opens 28 days after session 1 is done"


def _with_model(folder):
    """The tiny study, naming a model in its protocol (aided reads then wait for its outputs)."""
    toml = folder.path / "study.toml"
    toml.write_text(toml.read_text() + '\n[model]\nspec = "models/demo/model.toml"\n')
    return folder


def test_aided_session_waits_for_ai_outputs(engine_factory, tmp_path, now):
    """An aided read without its AI output would be an unaided read recorded as aided:
    the session list says how far the outputs are and opens when every case has one
    (or was recorded unreadable by a finished precompute run)."""
    from study.aioutput import AIOutput
    from tests.reading.helpers import make_study

    folder = _with_model(make_study(tmp_path / "s", design="concurrent"))
    engine = engine_factory(folder)
    sessions = SessionListState(engine, "r1", now)
    row = sessions.refresh()[0]
    assert (row.status, row.can_start, sessions.waiting_for_ai) == (
        "AI outputs being computed: 0 % (0 of 4 cases)",
        False,
        True,
    )
    for case_id in folder.case_ids[:2]:
        engine.store.put_ai_output(
            AIOutput(case_id, "m1", "binary", ("absent", "present"), (0.3, 0.7), predicted="present", score=0.7)
        )
    assert sessions.refresh()[0].status == "AI outputs being computed: 50 % (2 of 4 cases)"
    engine.store.put_ai_output(
        AIOutput(folder.case_ids[2], "m1", "binary", ("absent", "present"), (0.9, 0.1), predicted="absent", score=0.1)
    )
    # The run ends; the fourth case's media could not be read: settled, not waited for.
    engine.store.audit(
        "precompute", "ai.precompute", {"model_id": "m1", "computed": 3, "skipped": 0, "failed": [folder.case_ids[3]]}
    )
    row = sessions.refresh()[0]
    assert (row.status, row.can_start, row.action, sessions.waiting_for_ai) == (
        "not started \u00b7 4 cases",
        True,
        "Start",
        False,
    )
    readiness = engine.ai_readiness()
    assert (readiness.stored, readiness.failed, readiness.total, readiness.ready) == (3, 1, 4, True)


def test_unaided_session_never_waits_for_ai(engine_factory, tmp_path, now):
    from tests.reading.helpers import make_study

    engine = engine_factory(_with_model(make_study(tmp_path / "s")))
    rows = SessionListState(engine, "r1", now).refresh()
    assert rows[0].can_start and rows[0].status == "not started \u00b7 4 cases"
    assert not engine.ai_readiness().ready  # the aided session 2 will wait; it is locked by its washout first
    assert rows[1].status == "opens 28 days after session 1 is done"


def test_study_without_a_model_keeps_aided_sessions_closed(engine_factory, tmp_path, now):
    """No model attached: not "waiting" (nothing is being computed, the list does not poll) but
    closed, with the reason and where to mend it, in every design; unaided sessions open."""
    from tests.reading.helpers import make_study

    for design, rows_expected in [
        ("sequential", [("not started \u00b7 4 cases", True), ("opens 28 days after session 1 is done", False)]),
        ("crossover", [(NO_MODEL_ROW, False), ("opens when session 1 is done", False)]),
        ("concurrent", [(NO_MODEL_ROW, False)]),
    ]:
        folder = make_study(tmp_path / design, design=design, washout_days=0 if design == "crossover" else 28)
        engine = engine_factory(folder)
        readiness = engine.ai_readiness()
        assert not readiness.ready and not readiness.expected and not readiness.computing
        sessions = SessionListState(engine, "r1", now)
        assert [(r.status, r.can_start) for r in sessions.refresh()] == rows_expected, design
        assert not sessions.waiting_for_ai
