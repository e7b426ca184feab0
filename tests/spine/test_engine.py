"""Session engine: washout clock, seeded orders, submits, corrections, resume, leases."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from study.engine import LeaseHeld, LoginError, ReadSubmission, SessionLocked, StudyEngine
from study.errors import StudyError
from study.order import case_order
from study.store import reads_table
from tests.aimodel import attach_test_model, give_binary_ai


def submit(rs, item, answer="1", confidence=70.0, active_ms=1200):
    now = rs.engine.clock()
    return rs.submit(
        ReadSubmission(
            item.case_id, answer, now - timedelta(milliseconds=active_ms), now, active_ms, confidence=confidence
        )
    )


def read_session(engine, reader, index, answer="1"):
    rs = engine.start(reader, index)
    while (item := rs.next_item()) is not None:
        submit(rs, item, answer)
    rs.close()


@pytest.fixture
def engine(study_dir, db_url, clock):
    eng = StudyEngine.open(study_dir, db_url, clock=clock)
    eng.store.add_reader("spec1", "specialist", "1111")
    eng.store.add_reader("res1", "resident", "2222")
    yield eng
    eng.close()


def test_login_locks_after_three_wrong_pins(engine, clock):
    assert engine.login("spec1", "1111") == "spec1"
    for _ in range(2):
        with pytest.raises(LoginError, match=r"^Unknown reader code or wrong PIN\.$") as err:
            engine.login("spec1", "0000")
        assert err.value.locked_s is None
    # the third wrong PIN locks the code and says so, with how long
    with pytest.raises(LoginError, match="wrong PIN. Too many wrong PINs: this code is locked for 60 s") as err:
        engine.login("spec1", "0000")
    assert err.value.locked_s == 60
    with pytest.raises(LoginError, match="Too many wrong PINs. Try again in 60 s.") as err:
        engine.login("spec1", "1111")
    assert err.value.locked_s == 60
    clock.advance(seconds=61)
    assert engine.login("spec1", "1111") == "spec1"
    with pytest.raises(LoginError, match="Unknown reader code or wrong PIN"):
        engine.login("nobody", "1111")


def test_aided_session_opens_only_after_the_washout(engine, clock):
    states = [s.state for s in engine.sessions("spec1")]
    assert states == ["not started", "locked"]
    with pytest.raises(SessionLocked, match="opens after the previous session is finished"):
        engine.start("spec1", 2)
    read_session(engine, "spec1", 1)
    finished = clock.now
    clock.advance(days=27, hours=23)
    aided = engine.sessions("spec1")[1]
    assert aided.state == "locked" and aided.opens_at == finished + timedelta(days=28)
    with pytest.raises(SessionLocked, match=r"opens on 2026-11-30, in 1 days \(washout\)"):
        engine.start("spec1", 2)
    clock.advance(hours=1)
    assert engine.sessions("spec1")[1].state == "not started"
    give_binary_ai(engine)
    engine.start("spec1", 2).close()


def test_washout_override_needs_a_reason_and_is_audited(engine, clock):
    read_session(engine, "res1", 1)
    with pytest.raises(StudyError, match="a reason is required"):
        engine.override_washout("res1", 2, "  ")
    engine.override_washout("res1", 2, "reader leaves the hospital next week", actor="pi")
    assert engine.sessions("res1")[1].state == "not started"
    rows = engine.store.audit_rows()
    assert rows[-1]["action"] == "washout.override" and "leaves the hospital" in rows[-1]["payload"]
    assert engine.store.verify_chain().ok


def test_orders_are_seeded_reproducible_and_differ_between_sessions(engine, study_dir, clock):
    ids = [c.case_id for c in engine.cases]
    first = case_order(ids, 7, "spec1", 1)
    assert first == case_order(ids, 7, "spec1", 1)
    assert first != case_order(ids, 7, "spec1", 2)
    assert first != case_order(ids, 7, "res1", 1)
    assert first != case_order(ids, 8, "spec1", 1)
    assert sorted(first) == sorted(ids)
    # Two cases: the second session's order still differs from the first.
    assert case_order(["a", "b"], 1, "r", 2) != case_order(["a", "b"], 1, "r", 1)
    rs = engine.start("spec1", 1)
    assert rs.order == first
    rs.close()


def test_submit_commits_each_read_and_resume_continues_in_order(engine, study_dir, db_url, clock):
    rs = engine.start("spec1", 1)
    seen = []
    for _ in range(3):
        item = rs.next_item()
        seen.append(item.case_id)
        submit(rs, item, answer="0", confidence=20)
    assert rs.progress() == (3, 8)
    rs.close()
    # A new engine (a restarted app) resumes at the first unanswered case.
    again = StudyEngine.open(study_dir, db_url, clock=clock)
    rs2 = again.start("spec1", 1)
    item = rs2.next_item()
    assert item.position == 4 and item.case_id == rs2.order[3] and rs2.order[:3] == seen
    assert engine.sessions("spec1")[0].state == "in progress"
    rs2.close()
    again.close()
    table = reads_table(study_dir, db_url)
    assert list(table["case"]) == seen and set(table["decision"]) == {0} and set(table["rating"]) == {20.0}
    assert set(table["modality"]) == {"unaided"} and set(table["seconds"]) == {1.2}


def test_a_read_is_never_overwritten_a_correction_is_a_new_row(engine, study_dir, db_url):
    rs = engine.start("spec1", 1)
    item = rs.next_item()
    first_id = submit(rs, item, answer="0")
    with pytest.raises(StudyError, match="already answered"):
        submit(rs, item, answer="1")
    now = engine.clock()
    with pytest.raises(StudyError, match="needs a reason"):
        rs.correct(ReadSubmission(item.case_id, "1", now, now, 10, confidence=90), "")
    second_id = rs.correct(ReadSubmission(item.case_id, "1", now, now, 10, confidence=90), "clicked the wrong key")
    assert second_id > first_id
    rs.close()
    table = reads_table(study_dir, db_url)
    assert list(table["decision"]) == [1] and list(table["read_id"]) == [second_id]
    assert engine.store.verify_chain().ok


def test_invalid_answers_are_refused(engine):
    rs = engine.start("spec1", 1)
    item = rs.next_item()
    with pytest.raises(StudyError, match="answer 'yes' must be '0' or '1'"):
        submit(rs, item, answer="yes")
    with pytest.raises(StudyError, match=r"confidence 150 is outside 0..100"):
        submit(rs, item, confidence=150)
    assert rs.progress() == (0, 8)
    rs.close()


def test_ai_output_is_never_served_in_unaided_reads(engine, clock):
    from study.aioutput import AIOutput

    attach_test_model(engine.study_dir)
    for c in engine.cases:
        engine.store.put_ai_output(AIOutput(c.case_id, "m", "binary", ("absent", "present"), (0.1, 0.9), score=0.9))
    rs = engine.start("spec1", 1)
    item = rs.next_item()
    assert item.mode == "unaided" and rs.ai_output(item) is None
    forged = type(item)(item.case_id, item.position, item.total, "aided", item.media)
    assert rs.ai_output(forged) is None  # the session's own plan decides, not the caller
    rs.close()
    read_session(engine, "spec1", 1)
    clock.advance(days=28)
    rs = engine.start("spec1", 2)
    item = rs.next_item()
    assert item.mode == "aided" and rs.ai_output(item).score == pytest.approx(0.9)
    rs.close()


def test_lease_blocks_a_second_workstation_until_it_expires(engine, clock):
    a = engine.start("spec1", 1, workstation="ws-a")
    with pytest.raises(LeaseHeld, match="open on workstation 'ws-a'"):
        engine.start("spec1", 1, workstation="ws-b")
    clock.advance(seconds=60)
    a.heartbeat()
    clock.advance(seconds=100)
    with pytest.raises(LeaseHeld):
        engine.start("spec1", 1, workstation="ws-b")
    clock.advance(seconds=30)  # a's lease is stale now: ws-b may take over, once confirmed
    b = engine.start("spec1", 1, workstation="ws-b", take_over=True)
    with pytest.raises(LeaseHeld, match="taken over"):
        submit(a, a.next_item())
    submit(b, b.next_item())
    b.close()
    assert [r["action"] for r in engine.store.audit_rows()].count("lease.taken_over") == 1


def test_crossover_reads_each_case_once_per_mode_and_balances_order(make_study, tmp_path, clock):
    study = make_study(tmp_path / "x", design="crossover", n_cases=10)
    engine = StudyEngine.open(study, clock=clock)
    give_binary_ai(engine)
    for i in range(4):
        engine.store.add_reader(f"r{i}", "specialist", "1234")
    first_modes = []
    for i in range(4):
        read_session(engine, f"r{i}", 1)
        clock.advance(days=28)
        read_session(engine, f"r{i}", 2)
    table = reads_table(study)
    per_case = table.groupby(["reader", "case"])["modality"].apply(sorted)
    assert all(m == ["aided", "unaided"] for m in per_case)
    for i in range(4):
        s1 = table[(table.reader == f"r{i}") & (table.session == 1)]
        counts = Counter(s1.modality)
        assert counts["aided"] == counts["unaided"] == 5
        first_modes.append(frozenset(s1[s1.modality == "unaided"].case))
    # Readers alternate which block they read unaided first.
    assert first_modes[0] == first_modes[2] != first_modes[1] == first_modes[3]
    engine.close()


def test_changing_the_seed_after_the_study_started_is_refused(study_dir, clock):
    StudyEngine.open(study_dir, clock=clock).close()
    toml = study_dir / "study.toml"
    toml.write_text(toml.read_text().replace("seed = 7", "seed = 8"))
    with pytest.raises(StudyError, match="seed: stored '7', protocol now says '8'"):
        StudyEngine.open(study_dir, clock=clock)


def test_an_unreadable_case_is_skipped_and_the_session_still_completes(engine, study_dir, db_url, clock):
    rs = engine.start("spec1", 1)
    broken = rs.next_item()
    rs.mark_unavailable(broken, f"{broken.media['photo']}: truncated file")
    assert rs.next_item().case_id != broken.case_id and rs.progress() == (1, 8)
    rs.close()
    again = StudyEngine.open(study_dir, db_url, clock=clock)
    rs = again.start("spec1", 1)
    assert broken.case_id in rs.unavailable
    while (item := rs.next_item()) is not None:
        assert item.case_id != broken.case_id
        submit(rs, item)
    rs.close()
    first = again.sessions("spec1")[0]
    assert (first.state, first.done, first.total) == ("done", 8, 8)
    assert len(reads_table(study_dir, db_url)) == 7
    assert any(r["action"] == "case.unavailable" and "truncated file" in r["payload"] for r in again.store.audit_rows())
    again.close()


def test_a_waived_washout_is_visible_before_the_first_session_ends(engine):
    engine.override_washout("spec1", 2, "demo tour")
    aided = engine.sessions("spec1")[1]
    assert (aided.state, aided.washout_waived) == ("locked", True)
    assert not engine.sessions("res1")[1].washout_waived
    read_session(engine, "spec1", 1)
    assert engine.sessions("spec1")[1].state == "not started"
