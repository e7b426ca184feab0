"""The demo's background set-up: the headless command in a child process, read line by line."""

from __future__ import annotations

from app.demo_setup import DemoSetup, status_text
from study.store import Store


def test_status_lines():
    assert status_text("AI outputs for mri: 48/120") == (
        "Demo set-up: AI outputs for the mri study being computed: 40 % (48/120)"
    )
    assert status_text("ready: mri /x/mri") == "Demo set-up: the mri study is ready"
    assert status_text("built cytology in 3.2 s: /x/cytology") == "Demo set-up: built cytology in 3.2 s"
    assert status_text("  mri: model copied to demo/mri/models/mri") is None


def test_launcher_opens_the_study_when_ready_and_shows_the_background_status(qtbot, tmp_path):
    """What `readerstudy demo` does: the launcher at once, a real child `readerstudy demo --no-open`
    building in the background, the first study opening as soon as it is ready, and the set-up's
    progress on the study window's status line until it ends."""
    from app.commands.launch import LaunchFlow
    from app.launcher import LauncherWidget, RecentStudies

    launcher = LauncherWidget(RecentStudies(tmp_path / "recent.json"), demo_dir=tmp_path / "demo")
    qtbot.addWidget(launcher)
    flow = LaunchFlow(launcher)
    launcher.show()
    setup_args = ["--small", "--only", "conjunctiva", "--no-precompute"]
    with qtbot.waitSignal(launcher.study_chosen, timeout=180_000) as chosen:
        launcher.start_demo(setup_args)
        assert not launcher.demo_button.isEnabled() and launcher.status_label.text().startswith("Demo set-up")
    setup = launcher.demo_setup
    assert chosen.args == [str(tmp_path / "demo" / "conjunctiva")]
    window = flow.window
    qtbot.addWidget(window)
    assert window.isVisible() and window.screen == "login" and not launcher.isVisible()
    if setup.running:
        with qtbot.waitSignal(setup.setup_finished, timeout=180_000) as finished:
            pass
        assert finished.args[0] == 0
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Demo set-up finished"))
    assert setup.ready == {"conjunctiva": str(tmp_path / "demo" / "conjunctiva")}
    store = Store.open(tmp_path / "demo" / "conjunctiva")
    try:
        assert len(store.readers()) == 6
    finally:
        store.close()
    window.engine.close()


def test_a_failing_build_reports_its_cause(qtbot, tmp_path):
    (tmp_path / "demo" / "conjunctiva").mkdir(parents=True)
    (tmp_path / "demo" / "conjunctiva" / "notes.txt").write_text("mine")
    setup = DemoSetup(tmp_path / "demo", ["--small", "--only", "conjunctiva"])
    with qtbot.waitSignal(setup.setup_finished, timeout=180_000) as finished:
        setup.start()
    code, tail = finished.args
    assert code == 2 and "not a demo study" in tail and not setup.ready
    assert (tmp_path / "demo" / "conjunctiva" / "notes.txt").read_text() == "mine"
