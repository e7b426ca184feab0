"""Crash lockout: the same workstation resumes at once once the crashed window stopped
heart-beating; another one takes over a stale lease only when told to (the reader
confirmed), and the take-over is audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from study.engine import (
    LeaseHeld,
    LeaseStale,
    ReadSubmission,
    StudyEngine,
    workstation_id,
)


@pytest.fixture
def engine(study_dir, db_url, clock):
    eng = StudyEngine.open(study_dir, db_url, clock=clock)
    eng.store.add_reader("spec1", "specialist", "1111")
    yield eng
    eng.close()


def _submit(rs):
    item, now = rs.next_item(), rs.engine.clock()
    return rs.submit(ReadSubmission(item.case_id, "1", now - timedelta(seconds=1), now, 1000, confidence=60.0))


def test_same_workstation_resumes_at_once_after_a_crash(engine, clock):
    crashed = engine.start("spec1", 1)  # default: this OS user on this machine
    assert crashed.workstation == workstation_id() and "@" in crashed.workstation
    _submit(crashed)
    # The process dies: no close().  Within two minutes the lease looks alive (another window
    # may be reading): the reader is asked (tests/spine/test_engine_windows.py); after, not.
    clock.advance(seconds=121)
    again = engine.start("spec1", 1)
    assert again.next_item().position == 2  # resumes at the first unanswered case
    _submit(again)
    with pytest.raises(LeaseHeld, match="taken over"):
        _submit(crashed)  # a zombie window of the crashed run cannot write any more
    actions = [r["action"] for r in engine.store.audit_rows()]
    assert actions.count("lease.resumed") == 1 and "lease.taken_over" not in actions
    again.close()


def test_other_workstation_takes_over_a_stale_lease_only_when_confirmed(engine, clock):
    engine.start("spec1", 1, workstation="alice@ws-a")
    with pytest.raises(LeaseHeld) as live:
        engine.start("spec1", 1, workstation="bob@ws-b", take_over=True)  # live lease: never
    assert not isinstance(live.value, LeaseStale)
    clock.advance(seconds=121)  # ws-a stopped heart-beating
    with pytest.raises(LeaseStale, match="left open on workstation 'alice@ws-a'") as stale:
        engine.start("spec1", 1, workstation="bob@ws-b")
    assert stale.value.workstation == "alice@ws-a"
    assert "lease.taken_over" not in [r["action"] for r in engine.store.audit_rows()]
    b = engine.start("spec1", 1, workstation="bob@ws-b", take_over=True)
    _submit(b)
    rows = [r for r in engine.store.audit_rows() if r["action"] == "lease.taken_over"]
    assert len(rows) == 1 and rows[0]["actor"] == "spec1"
    payload = json.loads(rows[0]["payload"])
    assert payload["workstation"] == "bob@ws-b" and payload["from_workstation"] == "alice@ws-a"
    assert engine.store.verify_chain().ok
    b.close()


def test_heartbeat_after_a_take_over_names_the_new_workstation(engine, clock):
    a = engine.start("spec1", 1, workstation="alice@ws-a")
    clock.advance(seconds=200)
    b = engine.start("spec1", 1, workstation="bob@ws-b", take_over=True)
    with pytest.raises(LeaseHeld, match="bob@ws-b"):
        a.heartbeat()
    b.heartbeat()
    b.close()
