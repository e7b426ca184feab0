"""Logins (issue 11): PIN and admin lock-outs that hold under parallel guesses, reader codes
validated alike on both backends, login fields that never reach the database unchecked."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from study.engine import LoginError, StudyEngine
from study.errors import StudyError
from study.store import MAX_ADMIN_TRIES, Store
from study.store.schema import AuditRow, ReaderRow

GUESSER = textwrap.dedent("""
    import sys
    from study.engine import StudyEngine, LoginError
    study, url = sys.argv[1], (sys.argv[2] or None)
    eng = StudyEngine.open(study, url)
    print("READY", flush=True)
    sys.stdin.readline()  # everyone guesses at once
    try:
        eng.login("r1", "0000")
    except LoginError as err:
        # The guess that locks the code is a wrong PIN that also says so; later ones meet the lock.
        print("LOCKED" if err.problems[0].startswith("Too many") else "WRONG", flush=True)
    eng.close()
""")


def test_parallel_wrong_pins_are_all_counted(study_dir, db_url):
    engine = StudyEngine.open(study_dir, db_url)
    engine.store.add_reader("r1", "specialist", "1234")
    engine.close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", GUESSER, str(study_dir), db_url or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "READY", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120)[0].strip() for p in procs]
    # Three wrong PINs lock the code; every later guess meets the lock, none is checked.
    assert sorted(results) == ["LOCKED"] * 9 + ["WRONG"] * 3, results
    engine = StudyEngine.open(study_dir, db_url)
    with engine.store.Session() as s:
        row = s.execute(select(ReaderRow).where(ReaderRow.code == "r1")).scalar_one()
        locks = s.execute(select(AuditRow).where(AuditRow.action == "reader.locked")).scalars().all()
    assert row.locked_until is not None and len(locks) == 1
    with pytest.raises(LoginError, match="Too many wrong PINs"):
        engine.login("r1", "1234")  # even the right PIN waits for the lock
    engine.close()


def test_admin_password_locks_out_and_every_failure_is_audited(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    store.set_admin_password("admin-pw-1")
    for _ in range(MAX_ADMIN_TRIES - 1):
        with pytest.raises(StudyError, match=r"^Wrong admin password\.$"):
            store.admin_login("guess", via="test")
    with pytest.raises(StudyError, match="Too many tries: locked for 300 s"):
        store.admin_login("guess", via="test")
    with pytest.raises(StudyError, match=r"Too many wrong admin passwords\. Try again in 30\d s"):
        store.admin_login("admin-pw-1", via="test")
    actions = [r["action"] for r in store.audit_rows()]
    assert actions.count("admin.login_failed") == MAX_ADMIN_TRIES and actions.count("admin.locked") == 1
    assert actions[-1] == "admin.login_refused" and "admin.login" not in actions
    assert store.verify_chain().ok
    store.close()


def test_changing_the_admin_password_needs_the_current_one(study_dir, db_url):
    store = Store.open(study_dir, db_url)
    store.set_admin_password("admin-pw-1", actor="creator")
    with pytest.raises(StudyError, match="current admin password is wrong"):
        store.set_admin_password("taken-over")
    with pytest.raises(StudyError, match="current admin password is wrong"):
        store.set_admin_password("taken-over", current="guess")
    assert store.check_admin_password("admin-pw-1")
    store.set_admin_password("admin-pw-2", current="admin-pw-1")
    assert store.check_admin_password("admin-pw-2")
    assert [r["action"] for r in store.audit_rows()][-3:] == ["admin.password_refused"] * 2 + ["admin.password_set"]
    store.close()


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("r" * 65, "65 characters; at most 64"),
        ("rad\u200b1", "U+200B"),  # zero-width space
        ("rad\u202e1", "U+202E"),  # right-to-left override
        ("rad\x001", "U+0000"),  # NUL: a DataError on PostgreSQL
        ("rad\t1", "U+0009"),
        ("rad\x1b1", "U+001B"),
    ],
)
def test_reader_codes_are_validated_alike_on_both_backends(study_dir, db_url, code, cause):
    store = Store.open(study_dir, db_url)
    with pytest.raises(StudyError) as info:
        store.add_reader(code, "specialist", "1234")
    assert info.value.problems[0].startswith("reader code: ") and cause in info.value.problems[0]
    assert store.readers() == []
    store.add_reader("r" * 64, "specialist", "1234")  # the longest allowed code
    store.close()


@pytest.mark.parametrize(
    ("code", "pin"), [("r1\x00", "1234"), ("r1", "12\x0034"), ("r" * 500, "1234"), ("r1", "9" * 5000)]
)
def test_nul_or_over_long_login_fields_are_a_message(study_dir, db_url, code, pin):
    engine = StudyEngine.open(study_dir, db_url)
    engine.store.add_reader("r1", "specialist", "1234")
    with pytest.raises(LoginError) as info:
        engine.login(code, pin)
    assert len(info.value.problems) == 1 and ("NUL" in str(info.value) or "at most" in str(info.value))
    with pytest.raises(StudyError, match="NUL"):
        engine.store.admin_login("pw\x00")
    assert engine.login("r1", "1234") == "r1"
    engine.close()


def test_reading_login_screen_shows_the_field_problem(study_dir, db_url):
    from app.reading.login_state import LoginState

    engine = StudyEngine.open(study_dir, db_url)
    engine.store.add_reader("r1", "specialist", "1234")
    state = LoginState(engine)
    assert state.login("r1\x00", "1234") is None and state.message == "Reader code: contains a NUL character (U+0000)."
    assert state.login("r1", "1234") == "r1"
    engine.close()


def test_audit_rows_of_cli_admin_commands_name_the_admin(study_dir):
    from tests.spine.test_cli import ADMIN, cli

    assert cli("admin-password", study_dir, "--password", ADMIN, password=None).returncode == 0
    no = cli("readers", "add", study_dir, "r9", "--group", "specialist", "--pin", "1234", password=None)
    assert no.returncode == 2 and no.stderr.strip() == (
        "error: readers: needs the study's admin password: pass --admin-password-file FILE, "
        "set READERSTUDY_ADMIN_PASSWORD, or run it in a terminal to be asked"
    )
    wrong = cli("override-washout", study_dir, "r9", "--reason", "x", password="guess")
    assert wrong.returncode == 2 and wrong.stderr.strip() == "error: Wrong admin password."
    pwfile = study_dir.parent / "pw.txt"
    pwfile.write_text(ADMIN + "\n")
    ok = cli(
        "readers",
        "add",
        study_dir,
        "r9",
        "--group",
        "specialist",
        "--pin",
        "1234",
        "--admin-password-file",
        pwfile,
        password=None,
    )
    assert ok.returncode == 0, ok.stderr
    assert "--actor" not in cli("override-washout", "--help").stdout
    takeover = cli("admin-password", study_dir, "--password", "mine-now", password="guess")
    assert takeover.returncode == 2
    store = Store.open(study_dir)
    rows = store.audit_rows()
    added = next(r for r in rows if r["action"] == "reader.added")
    failed = [json.loads(r["payload"])["via"] for r in rows if r["action"] == "admin.login_failed"]
    assert added["actor"] == "admin" and failed == ["cli override-washout", "cli admin-password"]
    assert store.check_admin_password(ADMIN)
    store.close()
