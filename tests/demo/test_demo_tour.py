"""What a newcomer meets after `readerstudy demo --build`: the sign-in hint of each demo study and the
launcher's recent studies."""

from __future__ import annotations

from app.demo_setup import DemoSetup
from app.launcher import LauncherWidget, RecentStudies
from app.main_window import demo_hint
from study.engine import StudyEngine


def test_a_study_read_aided_only_promises_no_early_aided_session(small_study):
    engine = StudyEngine.open(small_study("conjunctiva"))  # concurrent: one aided session, no washout
    try:
        assert engine.protocol.modes == ("aided",)
        hint = demo_hint(engine)
    finally:
        engine.close()
    assert hint.startswith("Demo study: sign in as spec1 (specialist) or res1 (resident), PIN 1234. ")
    assert "unaided" not in hint and hint.endswith("Study administration below: admin password demo-admin.")


def test_every_demo_study_ready_becomes_a_recent_study_in_build_order(qtbot, tmp_path, monkeypatch):
    def study(path):
        path.mkdir(parents=True)
        (path / "study.toml").write_text("")  # the recent list keeps folders that hold one
        return path

    recent = RecentStudies(tmp_path / "recent.json")
    older = study(tmp_path / "my-study")
    recent.add(older)
    launcher = LauncherWidget(recent, demo_dir=tmp_path / "demo")
    qtbot.addWidget(launcher)
    opened = []
    launcher.study_chosen.connect(opened.append)
    monkeypatch.setattr(DemoSetup, "start", lambda self: None)  # the ready lines are emitted below
    launcher.start_demo(["--small"])
    names = ("mri", "cytology", "motility", "conjunctiva", "octa")
    for name in names:
        launcher.demo_setup.study_ready.emit(name, str(study(tmp_path / "demo" / name)))
    assert opened == [str(tmp_path / "demo" / "mri")]  # the first one opens, the others do not
    assert recent.list() == [*(tmp_path / "demo" / n for n in names), older]
    assert launcher.recent_list.count() == 6
