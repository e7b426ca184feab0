"""One session, one window: a second window of the same workstation is asked before it takes
a live session over, a window that stopped (crash) is resumed at once, and the window that
lost its session writes nothing more (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from study.engine import (
    LEASE_SECONDS,
    OpenInAnotherWindow,
    ReadSubmission,
    SessionMoved,
    StudyEngine,
)
from study.store import reads_table

WS = "reader@ws-1"  # both windows run on this workstation, as the same OS user


@pytest.fixture
def engine(study_dir, db_url, clock):
    eng = StudyEngine.open(study_dir, db_url, clock=clock)
    eng.store.add_reader("spec1", "specialist", "1111")
    yield eng
    eng.close()


def _read(clock, case_id, seconds, answer="1"):
    start = clock()
    clock.advance(seconds=seconds)
    return ReadSubmission(case_id, answer, start, clock(), seconds * 1000, confidence=60.0)


def _actions(engine):
    return [r["action"] for r in engine.store.audit_rows()]


def test_a_second_window_is_told_before_anything_changes(engine, clock, study_dir, db_url):
    opened = clock()
    first = engine.start("spec1", 1, workstation=WS)
    first.submit(_read(clock, first.next_item().case_id, 20))  # renews the heartbeat
    beat = clock()
    clock.advance(seconds=30)
    audit_before = _actions(engine)
    with pytest.raises(OpenInAnotherWindow) as asked:
        engine.start("spec1", 1, workstation=WS)
    holder = asked.value.holder
    assert (holder.workstation, holder.opened_at, holder.last_heartbeat) == (WS, opened, beat)
    assert "open in another window" in str(asked.value) and f"{opened:%H:%M:%S}" in str(asked.value)
    assert _actions(engine) == audit_before  # nothing written
    first.submit(_read(clock, first.next_item().case_id, 5))  # the first window goes on, untouched
    first.heartbeat()
    assert len(reads_table(study_dir, db_url)) == 2
    first.close()


def test_the_first_window_stops_on_its_next_action_and_writes_nothing(engine, clock, study_dir, db_url):
    first = engine.start("spec1", 1, workstation=WS)
    first.submit(_read(clock, first.next_item().case_id, 10))
    on_screen = first.next_item().case_id
    first.leave(_read(clock, on_screen, 4, answer=""), {"choice": "1"})  # an earlier sitting of it
    shown = clock()
    clock.advance(seconds=6)  # the reader works on it in the first window...
    taken_at = clock()
    second = engine.start("spec1", 1, workstation=WS, take_over=True)  # ...and takes it over in a second one
    assert second.next_item().case_id == on_screen and second.draft(on_screen) == {"choice": "1"}
    unsaved = ReadSubmission(on_screen, "0", shown, clock(), 6000, confidence=90.0)
    with pytest.raises(SessionMoved) as moved:
        first.submit(unsaved)
    assert moved.value.holder.opened_at == taken_at and "taken over by another window" in str(moved.value)
    with pytest.raises(SessionMoved):
        first.leave(unsaved, {"choice": "0"})  # Exit or window closed
    with pytest.raises(SessionMoved):
        first.mark_unavailable(first.item(on_screen), "unreadable")
    with pytest.raises(SessionMoved):
        first.heartbeat()
    assert second.draft(on_screen) == {"choice": "1"}  # the first window's unsaved answer is not there
    second.submit(_read(clock, on_screen, 3))
    table = reads_table(study_dir, db_url).set_index("case")
    assert len(table) == 2 and table.index.is_unique  # no answer twice, none from the stopped window
    assert table.loc[on_screen, "answer"] == "1"
    assert table.loc[on_screen, "seconds"] == 7.0 and table.loc[on_screen, "sitting_seconds"] == "4.0;3.0"
    assert on_screen not in second.unavailable
    taken = [json.loads(r["payload"]) for r in engine.store.audit_rows() if r["action"] == "lease.taken_over"]
    assert len(taken) == 1 and taken[0]["from_window_alive"] is True and taken[0]["from_workstation"] == WS
    assert "case.unavailable" not in _actions(engine) and engine.store.verify_chain().ok
    second.close()
    with pytest.raises(SessionMoved, match="closed it since") as gone:
        first.submit(unsaved)  # the second window closed: the first still writes nothing
    assert gone.value.holder is None


def test_a_crashed_window_is_resumed_at_once_and_named(engine, clock):
    crashed = engine.start("spec1", 1, workstation=WS)
    crashed.submit(_read(clock, crashed.next_item().case_id, 10))
    last_beat = clock()
    clock.advance(seconds=LEASE_SECONDS + 1)  # no heartbeat for two minutes: the window stopped
    again = engine.start("spec1", 1, workstation=WS)  # no question asked
    assert again.resumed_from is not None and again.resumed_from.last_heartbeat == last_beat
    assert again.next_item().position == 2
    assert _actions(engine).count("lease.resumed") == 1 and "lease.taken_over" not in _actions(engine)
    with pytest.raises(SessionMoved):
        crashed.submit(_read(clock, crashed.next_item().case_id, 1))
    fresh = engine.start("spec1", 1, workstation=WS, take_over=True)
    assert fresh.resumed_from is None  # taken from a live window: not a crash
    fresh.close()


def test_a_window_taking_its_session_back_sees_what_the_other_one_read(engine, clock, study_dir, db_url):
    first = engine.start("spec1", 1, workstation=WS)
    case = first.next_item().case_id
    second = engine.start("spec1", 1, workstation=WS, take_over=True)
    second.submit(_read(clock, case, 5))
    first.acquire(take_over=True)  # back to the first window
    assert first.next_item().case_id != case and case in first.answered
    with pytest.raises(Exception, match="already answered"):
        first.submit(_read(clock, case, 2))
    assert len(reads_table(study_dir, db_url)) == 1
    first.close()
