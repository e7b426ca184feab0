"""The demo's background set-up: the headless command in a child process, read line by line."""

from __future__ import annotations

from app.demo_setup import DemoSetup, status_text
from study.store import Store


def test_status_lines():
    assert status_text("AI outputs for mri: 48/120") == (
        "Demo set-up: AI outputs for the mri study being computed: 40 % (48/120)")
    assert status_text("ready: mri /x/mri") == "Demo set-up: the mri study is ready"
    assert status_text("built cytology in 3.2 s: /x/cytology") == "Demo set-up: built cytology in 3.2 s"
    assert status_text("  mri: model copied to demo/mri/models/mri") is None


def test_child_process_builds_and_reports_ready(qtbot, tmp_path):
    """A real child `readerstudy demo --no-open`: ready is said once the study can be opened."""
    setup = DemoSetup(tmp_path / "demo", ["--small", "--only", "conjunctiva", "--no-precompute"])
    statuses: list[str] = []
    setup.status_changed.connect(statuses.append)
    with qtbot.waitSignal(setup.setup_finished, timeout=180_000) as finished:
        with qtbot.waitSignal(setup.study_ready, timeout=180_000) as ready:
            setup.start()
    assert ready.args == ["conjunctiva", str(tmp_path / "demo" / "conjunctiva")]
    assert finished.args[0] == 0 and not setup.running
    assert "Demo set-up: the conjunctiva study is ready" in statuses
    assert statuses[-1].startswith("Demo set-up finished")
    store = Store.open(tmp_path / "demo" / "conjunctiva")
    try:
        assert len(store.readers()) == 6
    finally:
        store.close()


def test_a_failing_build_reports_its_cause(qtbot, tmp_path):
    (tmp_path / "demo" / "conjunctiva").mkdir(parents=True)
    (tmp_path / "demo" / "conjunctiva" / "notes.txt").write_text("mine")
    setup = DemoSetup(tmp_path / "demo", ["--small", "--only", "conjunctiva"])
    with qtbot.waitSignal(setup.setup_finished, timeout=180_000) as finished:
        setup.start()
    code, tail = finished.args
    assert code == 2 and "not a demo study" in tail and not setup.ready
    assert (tmp_path / "demo" / "conjunctiva" / "notes.txt").read_text() == "mine"
