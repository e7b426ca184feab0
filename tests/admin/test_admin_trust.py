"""The admin login screen locks out after wrong passwords; a missing store is a message, not a fresh study."""

from __future__ import annotations

from app.admin import open_admin
from study.store import MAX_ADMIN_TRIES, Store


def test_wrong_admin_passwords_lock_the_screen_and_are_audited(qtbot, photo_study):
    shell = open_admin(photo_study)
    qtbot.addWidget(shell)
    login = shell.login
    for _ in range(MAX_ADMIN_TRIES):
        qtbot.keyClicks(login.password_edit, "not-it")
        login.login_button.click()
    assert login.message_label.text() == "Wrong admin password. Too many tries: locked for 300 s."
    qtbot.keyClicks(login.password_edit, "admin-secret")  # the right one, during the lock-out
    login.login_button.click()
    assert login.message_label.text().startswith("Too many wrong admin passwords. Try again in")
    assert shell.admin is None and login.password_edit.text() == ""
    store = Store.open(photo_study)
    try:
        actions = [r["action"] for r in store.audit_rows()]
    finally:
        store.close()
    assert actions.count("admin.login_failed") == MAX_ADMIN_TRIES and "admin.locked" in actions
    assert actions[-1] == "admin.login_refused"


def test_missing_store_is_a_message_in_the_launcher_and_the_admin_screen(qtbot, photo_study, tmp_path):
    from app.commands.launch import LaunchFlow
    from app.launcher import LauncherWidget, RecentStudies

    Store.open(photo_study).close()
    for name in ("readerstudy.sqlite", "readerstudy.sqlite-wal", "readerstudy.sqlite-shm"):
        (photo_study / name).unlink(missing_ok=True)
    launcher = LauncherWidget(RecentStudies(tmp_path / "recent.json"), demo_dir=tmp_path / "demo")
    qtbot.addWidget(launcher)
    flow = LaunchFlow(launcher)
    flow.on_study_chosen(str(photo_study))
    assert flow.window is None
    assert "the study store is missing, but this study was opened before" in launcher.message_label.text()
    shell = open_admin(photo_study)
    qtbot.addWidget(shell)
    assert "the study store is missing" in shell.login.explain.text()
    assert not shell.login.login_button.isVisibleTo(shell.login)
    assert not (photo_study / "readerstudy.sqlite").exists()  # no fresh, empty store was made


def test_unsupported_db_url_is_a_message_in_the_launcher(qtbot, photo_study, tmp_path):
    from app.commands.launch import LaunchFlow
    from app.launcher import LauncherWidget, RecentStudies

    (photo_study / "db_url").write_text("mysql://db.example/study\n")
    launcher = LauncherWidget(RecentStudies(tmp_path / "recent.json"), demo_dir=tmp_path / "demo")
    qtbot.addWidget(launcher)
    flow = LaunchFlow(launcher)
    flow.on_study_chosen(str(photo_study))
    assert flow.window is None
    assert launcher.message_label.text() == (
        f"{photo_study / 'db_url'}: unsupported database 'mysql' in "
        "'mysql://db.example/study'; use sqlite:///PATH or "
        "postgresql+psycopg://HOST/DB"
    )


def test_results_tab_refuses_a_tampered_store(qtbot, photo_study):
    import sqlite3
    from datetime import UTC, datetime

    from app.admin.dashboard_state import DashboardState
    from app.admin.dashboard_widget import DashboardWidget
    from study.engine import ReadSubmission, StudyEngine

    engine = StudyEngine.open(photo_study)
    engine.store.add_reader("r1", "specialist", "1234")
    rs = engine.start("r1", 1)
    while (item := rs.next_item()) is not None:
        now = datetime.now(UTC)
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 800, confidence=70))
    rs.close()
    engine.close()
    conn = sqlite3.connect(photo_study / "readerstudy.sqlite")
    conn.execute("UPDATE reads SET answer = '0' WHERE id = 2")  # behind the app's back
    conn.commit()
    conn.close()
    w = DashboardWidget(DashboardState(photo_study, title="photos"))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.failed, timeout=30_000) as blocker:
        w.on_refresh_clicked()
    assert blocker.args[0].startswith("AUDIT CHAIN BROKEN at row ") and "read 2 was edited" in blocker.args[0]
    assert w.state.analysis is None and not w.export_button.isEnabled()


def test_results_tab_refuses_a_changed_truth_and_keeps_an_earlier_anchor(qtbot, photo_study, tmp_path):
    from datetime import UTC, datetime

    from app.admin.dashboard_state import DashboardState
    from app.admin.dashboard_widget import DashboardWidget
    from study.engine import ReadSubmission, StudyEngine

    engine = StudyEngine.open(photo_study)
    engine.store.add_reader("r1", "specialist", "1234")
    rs = engine.start("r1", 1)
    while (item := rs.next_item()) is not None:
        now = datetime.now(UTC)
        rs.submit(ReadSubmission(item.case_id, "1", now, now, 800, confidence=70))
    rs.close()
    engine.close()
    w = DashboardWidget(DashboardState(photo_study, title="photos"))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.analysis_shown, timeout=30_000):
        w.on_refresh_clicked()
    out = tmp_path / "export"
    out.mkdir()
    with qtbot.waitSignal(w.exported, timeout=60_000):
        w.export_to(out)
    anchor = (out / "AUDIT_ANCHOR.txt").read_text()
    with qtbot.waitSignal(w.failed, timeout=60_000) as blocker:  # the same folder again
        w.export_to(out)
    assert blocker.args[0].startswith(f"{out / 'AUDIT_ANCHOR.txt'}: an earlier report's audit anchor")
    assert (out / "AUDIT_ANCHOR.txt").read_text() == anchor

    table = photo_study / "cases.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("truth")
    flipped = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[col] = {"0": "1", "1": "0"}.get(cells[col], cells[col])
        flipped.append(",".join(cells))
    table.write_text("\n".join(flipped) + "\n", encoding="utf-8")
    with qtbot.waitSignal(w.failed, timeout=60_000) as blocker:  # the analysis on screen, exported anew
        w.export_to(tmp_path / "export2")
    assert blocker.args[0].startswith(f"{table.resolve()}: the truth table changed since the truth was sealed")
    assert "readerstudy truth-correct" in blocker.args[0] and not (tmp_path / "export2").exists()
    with qtbot.waitSignal(w.failed, timeout=30_000) as blocker:
        w.on_refresh_clicked()
    assert blocker.args[0].startswith(f"{table.resolve()}: the truth table changed since the truth was sealed")
