"""The launcher: recent studies, open a folder, a bad folder's message, then the study window."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.commands.launch import LaunchFlow
from app.launcher import LauncherWidget, RecentStudies


def test_recent_studies_and_open(qtbot, tmp_path, study):
    recent = RecentStudies(tmp_path / "cfg" / "recent.json")
    assert recent.list() == []
    recent.add(tmp_path / "gone")  # no study.toml: never listed
    recent.add(study.path)
    assert recent.list() == [study.path.resolve()]
    chosen = []
    launcher = LauncherWidget(recent, demo_dir=tmp_path / "demo", choose_folder=lambda parent: str(tmp_path))
    qtbot.addWidget(launcher)
    flow = LaunchFlow(launcher)
    launcher.show()
    assert launcher.recent_list.count() == 1
    # A folder that is not a study: the launcher stays and names the problem.
    qtbot.mouseClick(launcher.open_button, Qt.MouseButton.LeftButton)
    assert flow.window is None and "study.toml: file not found" in launcher.message_label.text()
    launcher.study_chosen.connect(chosen.append)
    with qtbot.waitSignal(launcher.study_chosen):
        launcher.recent_list.itemActivated.emit(launcher.recent_list.item(0))
    assert chosen == [str(study.path.resolve())]
    assert flow.window is not None and flow.window.screen == "login" and not launcher.isVisible()
    qtbot.addWidget(flow.window)
    flow.window.engine.close()


def test_demo_button_opens_a_built_demo(qtbot, tmp_path, study):
    launcher = LauncherWidget(RecentStudies(tmp_path / "recent.json"), demo_dir=tmp_path / "demo")
    qtbot.addWidget(launcher)
    (tmp_path / "demo").mkdir()
    study.path.rename(tmp_path / "demo" / "mri")
    with qtbot.waitSignal(launcher.study_chosen) as blocker:
        qtbot.mouseClick(launcher.demo_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [str(tmp_path / "demo" / "mri")]
    assert launcher.demo_setup is None  # not a demo build: opened, nothing built


def test_sign_in_hint_only_for_demo_studies(qtbot, engine_factory, study, tmp_path):
    from app.main_window import MainWindow
    from tests.reading.helpers import make_study

    real = MainWindow(engine_factory(study))
    qtbot.addWidget(real)
    demo = make_study(tmp_path / "demo")
    (demo.path / "demo.json").write_text("{}", encoding="utf-8")
    shown = MainWindow(engine_factory(demo))
    qtbot.addWidget(shown)
    texts = lambda w: " ".join(lbl.text() for lbl in w.login.findChildren(type(w.login.message_label)))  # noqa: E731
    assert "PIN 1234" in texts(shown) and "spec1" in texts(shown)
    assert "1234" not in texts(real) and "spec1" not in texts(real)


def test_open_command_refuses_a_folder_that_is_not_a_study(tmp_path, capsys):
    from app.commands.open_study import open_study_window

    assert open_study_window(tmp_path) == 2
    assert "study.toml: file not found" in capsys.readouterr().err


def test_demo_session_list_explains_how_to_skip_the_washout(qtbot, engine_factory, tmp_path, mono):
    from app.main_window import MainWindow
    from tests.reading.helpers import make_study

    demo = make_study(tmp_path / "demo", n=1)
    (demo.path / "demo.json").write_text("{}", encoding="utf-8")
    engine = engine_factory(demo)
    window = MainWindow(engine, clock=mono)
    qtbot.addWidget(window)
    window.show()
    window.login_state.login("r1", "2468")
    window.on_logged_in("r1")
    assert not window.sessions.demo_label.isVisible()  # session 2 waits for session 1, not a washout
    window.on_session_chosen(1)
    qtbot.waitUntil(lambda: not window.reading.state.loading)
    for key in (Qt.Key.Key_1, Qt.Key.Key_Down, Qt.Key.Key_Return):
        qtbot.keyClick(window.reading, key)
    window.summary.back_requested.emit()
    hint = window.sessions.demo_label.text()
    assert window.sessions.demo_label.isVisible()
    assert f"readerstudy override-washout {demo.path} r1 --reason demo" in hint
    engine.override_washout("r1", 2, "demo")
    demo.put_ai()  # the aided session needs a model and its outputs too
    qtbot.mouseClick(window.sessions.refresh_button, Qt.MouseButton.LeftButton)
    assert 2 in window.sessions.start_buttons and not window.sessions.demo_label.isVisible()


def test_sign_in_card_labels_never_overlap_the_button(qtbot, engine_factory, tmp_path):
    """Wrapped labels under the button once slid beneath it (no height-for-width)."""
    from PySide6.QtWidgets import QLabel

    from app.main_window import MainWindow
    from tests.reading.helpers import make_study

    demo = make_study(tmp_path / "demo")
    (demo.path / "demo.json").write_text("{}", encoding="utf-8")
    window = MainWindow(engine_factory(demo))
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    with qtbot.waitExposed(window):  # waits only as a context manager
        window.show()
    button = window.login.sign_in_button
    hint = next(lbl for lbl in window.login.findChildren(QLabel) if lbl.text().startswith("Demo study"))
    qtbot.waitUntil(lambda: hint.height() >= hint.heightForWidth(hint.width()))
    assert hint.geometry().top() > button.geometry().bottom()
