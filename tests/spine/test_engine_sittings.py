"""Sittings: a case left unanswered and finished later keeps the time of every sitting."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from study.engine import ReadSubmission, StudyEngine
from study.store import reads_table


@pytest.fixture
def engine(study_dir, db_url, clock):
    eng = StudyEngine.open(study_dir, db_url, clock=clock)
    eng.store.add_reader("spec1", "specialist", "1111")
    yield eng
    eng.close()


def _sitting(clock, case_id, seconds, answer="1", **kw):
    start = clock()
    clock.advance(seconds=seconds + 1)  # one second of it paused: active time is what counts
    return ReadSubmission(case_id, answer, start, clock(), seconds * 1000, confidence=60.0, **kw)


def test_every_sitting_is_stored_and_the_read_totals_them(engine, clock, study_dir, db_url):
    rs = engine.start("spec1", 1)
    first = rs.next_item().case_id
    rs.leave(_sitting(clock, first, 4, ai_shown_ms=0))  # viewed, then Exit
    rs.close()
    clock.advance(minutes=30)
    rs = engine.start("spec1", 1)
    assert rs.next_item().case_id == first  # still unanswered
    rs.leave(_sitting(clock, first, 3))  # viewed, then another slide opened
    read_id = rs.submit(_sitting(clock, first, 2))  # finished in a third sitting
    sittings = rs.sittings()
    assert [(s.outcome, s.active_ms) for s in sittings] == [("left", 4000), ("left", 3000), ("submitted", 2000)]
    assert [s.read_id for s in sittings] == [None, None, read_id]
    assert all(a.ended_at <= b.started_at for a, b in pairwise(sittings))
    table = reads_table(study_dir, db_url).set_index("case")
    assert table.loc[first, "seconds"] == 9.0  # 4 + 3 + 2, not the last sitting's 2
    assert table.loc[first, "sittings"] == 3
    assert table.loc[first, "sitting_seconds"] == "4.0;3.0;2.0"
    assert table.loc[first, "displayed_at"] == sittings[0].started_at
    # A correction counts only the sittings after the read it corrects.
    rs.leave(_sitting(clock, first, 5))
    rs.correct(_sitting(clock, first, 1, answer="0"), reason="misclick")
    table = reads_table(study_dir, db_url).set_index("case")
    assert table.loc[first, "seconds"] == 6.0 and table.loc[first, "sitting_seconds"] == "5.0;1.0"
    assert len(engine.sittings("spec1")) == 5
    actions = [r["action"] for r in engine.store.audit_rows()]
    assert actions.count("case.left") == 3
    assert engine.store.verify_chain().ok
    rs.close()


def test_a_sitting_with_inconsistent_times_is_refused(engine, clock):
    rs = engine.start("spec1", 1)
    item = rs.next_item()
    now = clock()
    with pytest.raises(Exception, match="timing is inconsistent"):
        rs.leave(ReadSubmission(item.case_id, "", now, now - timedelta(seconds=1), 10))
    assert rs.sittings() == []
    rs.close()


def test_sittings_left_by_another_window_count_after_the_lease_comes_back(engine, clock, study_dir, db_url):
    """The session keeps its cases with open sittings in memory; a window that takes the lease
    back must see the sittings another window left meanwhile."""
    first_window = engine.start("spec1", 1, workstation="ws1")
    case = first_window.next_item().case_id
    second_window = engine.start("spec1", 1, workstation="ws1", take_over=True)  # the reader chose to
    second_window.leave(_sitting(clock, case, 4))
    first_window.acquire(take_over=True)  # back to the first window
    first_window.submit(_sitting(clock, case, 2))
    assert [s.active_ms for s in first_window.sittings()] == [4000, 2000]
    table = reads_table(study_dir, db_url).set_index("case")
    assert table.loc[case, "seconds"] == 6.0 and table.loc[case, "sittings"] == 2
    assert engine.store.verify_chain().ok
    first_window.close()


def test_a_session_with_only_a_left_case_is_in_progress(engine, clock):
    """The session list says Resume, not Start, once a case was opened and left unanswered."""
    from app.reading.session_list_state import session_row

    assert engine.sessions("spec1")[0].state == "not started"
    rs = engine.start("spec1", 1)
    rs.leave(_sitting(clock, rs.next_item().case_id, 4))
    rs.close()
    info = engine.sessions("spec1")[0]
    assert (info.state, info.done) == ("in progress", 0)
    assert session_row(info, clock()).action == "Resume"
