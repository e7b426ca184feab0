"""Real processes: a reader killed with SIGKILL between submits loses nothing
submitted, and two processes racing for one session's lease never share it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC

import pytest

from study.engine import ReadSubmission, StudyEngine
from study.store import reads_table

READER = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timezone
    from study.engine import StudyEngine, ReadSubmission
    study, url, n = sys.argv[1], (sys.argv[2] or None), int(sys.argv[3])
    eng = StudyEngine.open(study, url)
    rs = eng.start("spec1", 1, workstation="ws-killed")
    for _ in range(n):
        item = rs.next_item()
        now = datetime.now(timezone.utc)
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 900, confidence=66))
        print("SUBMITTED", item.case_id, flush=True)
    print("WAITING", flush=True)
    sys.stdin.read()  # wait to be killed mid-session
""")

RACER = textwrap.dedent("""
    import sys
    from study.engine import StudyEngine, LeaseHeld
    study, url, name = sys.argv[1], (sys.argv[2] or None), sys.argv[3]
    eng = StudyEngine.open(study, url)
    print("READY", flush=True)
    sys.stdin.readline()  # both start together
    try:
        rs = eng.start("spec1", 1, workstation=name)
        print("GOT", flush=True)
        sys.stdin.readline()
    except LeaseHeld as err:
        print("HELD", err.problems[0], flush=True)
""")


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_between_submits_loses_nothing_and_resume_is_exact(study_dir, db_url):
    engine = StudyEngine.open(study_dir, db_url)
    engine.store.add_reader("spec1", "specialist", "1111")
    proc = _spawn(READER, str(study_dir), db_url or "", "5")
    submitted = []
    for line in proc.stdout:
        if line.startswith("SUBMITTED"):
            submitted.append(line.split()[1])
        if line.startswith("WAITING"):
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL and len(submitted) == 5
    table = reads_table(study_dir, db_url)
    assert list(table["case"]) == submitted
    # The killed process's lease blocks until it expires; then resume at case 6.
    from datetime import datetime, timedelta

    later = StudyEngine.open(study_dir, db_url, clock=lambda: datetime.now(UTC) + timedelta(minutes=5))
    rs = later.start("spec1", 1, workstation="ws-new", take_over=True)
    assert rs.order[:5] == submitted and rs.next_item().position == 6
    rs.close()
    assert later.store.verify_chain().ok
    later.close()
    engine.close()


@pytest.mark.parametrize("rounds", [3])
def test_two_processes_racing_for_one_lease(study_dir, db_url, rounds):
    engine = StudyEngine.open(study_dir, db_url)
    engine.store.add_reader("spec1", "specialist", "1111")
    for _ in range(rounds):
        procs = [_spawn(RACER, str(study_dir), db_url or "", f"ws-{i}") for i in range(2)]
        for p in procs:
            assert p.stdout.readline().strip() == "READY", p.stderr.read()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [p.stdout.readline().strip() for p in procs]
        for p in procs:
            p.communicate("done\n", timeout=30)
        assert sorted(r.split()[0] for r in results) == ["GOT", "HELD"], results
        # The winner exited without closing: clear its lease for the next round.
        from sqlalchemy import delete

        from study.store.schema import LeaseRow

        with engine.store.transaction() as s:
            s.execute(delete(LeaseRow))
    engine.close()


CONCURRENT = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from study.engine import StudyEngine, ReadSubmission
    study, url, reader = sys.argv[1], (sys.argv[2] or None), sys.argv[3]
    eng = StudyEngine.open(study, url)
    rs = eng.start(reader, 1, workstation="ws-" + reader)
    print("READY", flush=True)
    sys.stdin.readline()
    while (item := rs.next_item()) is not None:
        now = datetime.now(timezone.utc)
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 700, confidence=75))
    rs.close()
    print("DONE", flush=True)
""")


def test_concurrent_readers_lose_no_answers_and_keep_one_audit_chain(make_study, tmp_path, db_url):
    study = make_study(tmp_path / "many", n_cases=25)
    engine = StudyEngine.open(study, db_url)
    readers = [f"r{i}" for i in range(4)]
    for code in readers:
        engine.store.add_reader(code, "resident", "1234")
    procs = [_spawn(CONCURRENT, str(study), db_url or "", code) for code in readers]
    for p in procs:
        assert p.stdout.readline().strip() == "READY", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert out.strip() == "DONE", err[-2000:]
    table = reads_table(study, db_url)
    assert len(table) == 4 * 25 and table.groupby("reader").case.nunique().eq(25).all()
    check = engine.store.verify_chain()
    # store baseline + study facts + truth seal + 4 readers + 100 reads
    assert check.ok and check.rows == 3 + 4 + 100, check
    engine.close()


FIRST_WINDOW = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from study.engine import StudyEngine, ReadSubmission, SessionMoved
    study, url = sys.argv[1], (sys.argv[2] or None)
    eng = StudyEngine.open(study, url)
    rs = eng.start("spec1", 1, workstation="reader@ws-1")
    done = 0
    try:
        while (item := rs.next_item()) is not None:
            now = datetime.now(timezone.utc)
            rs.submit(ReadSubmission(item.case_id, "1", now, now, 700, confidence=75))
            print("SUBMITTED", item.case_id, flush=True)
            done += 1
            if done == 3:  # wait until the other window has taken over
                sys.stdin.readline()
        print("FINISHED", flush=True)
    except SessionMoved:
        print("MOVED", item.case_id, flush=True)
""")


def test_a_second_window_taking_over_mid_submit_records_no_case_twice(make_study, tmp_path, db_url):
    """The first window (another process) has submitted three reads when a second window of the
    same workstation takes the session over; its next submit is refused and the second window
    reads the rest: every case once, each read by the window that held the session when it was
    committed.  (The first window waits for the take-over: had it raced on, a loaded machine let
    it finish all 120 before the take-over began.)"""
    study = make_study(tmp_path / "race", n_cases=120)
    engine = StudyEngine.open(study, db_url)
    engine.store.add_reader("spec1", "specialist", "1111")
    first = _spawn(FIRST_WINDOW, str(study), db_url or "")
    by_first = []
    for line in first.stdout:
        by_first.append(line.split()[1])
        if len(by_first) == 3:
            break
    second = engine.start("spec1", 1, workstation="reader@ws-1", take_over=True)
    rest = first.communicate("go\n", timeout=60)[0].split("\n")
    by_first += [line.split()[1] for line in rest if line.startswith("SUBMITTED")]
    moved = [line for line in rest if line.startswith("MOVED")]
    assert len(moved) == 1, rest  # stopped at its next submit after the take-over
    assert moved[0].split()[1] not in by_first  # the refused read is not stored
    by_second = []
    while (item := second.next_item()) is not None:
        now = engine.clock()
        second.submit(ReadSubmission(item.case_id, "0", now, now, 500, confidence=20))
        by_second.append(item.case_id)
    second.close()
    table = reads_table(study, db_url)
    assert table["case"].is_unique and len(table) == 120
    assert set(table[table.answer == "1"]["case"]) == set(by_first)
    assert set(table[table.answer == "0"]["case"]) == set(by_second) and moved[0].split()[1] in by_second
    assert engine.store.verify_chain().ok
    engine.close()
