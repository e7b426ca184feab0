"""Researchers reach their screens: launcher entries, the sign-in screen's entry, `readerstudy admin`."""

from __future__ import annotations

import argparse

from PySide6.QtCore import Qt, QTimer

from app.admin.shell import AdminShellWidget
from app.commands.launch import LaunchFlow
from app.launcher import LauncherWidget, RecentStudies
from tests.admin.conftest import ADMIN_PASSWORD


def _launcher(qtbot, tmp_path, folder: str) -> tuple[LauncherWidget, LaunchFlow]:
    launcher = LauncherWidget(
        RecentStudies(tmp_path / "cfg" / "recent.json"), demo_dir=tmp_path / "demo", choose_folder=lambda parent: folder
    )
    qtbot.addWidget(launcher)
    flow = LaunchFlow(launcher)
    launcher.show()
    return launcher, flow


def test_launcher_new_study_opens_the_wizard(qtbot, tmp_path):
    launcher, flow = _launcher(qtbot, tmp_path, "")
    qtbot.mouseClick(launcher.new_study_button, Qt.MouseButton.LeftButton)
    shell = flow.admin_window
    assert isinstance(shell, AdminShellWidget)
    qtbot.addWidget(shell)
    assert shell.wizard is not None and shell.currentWidget() is shell.wizard and shell.isVisible()
    assert not launcher.isVisible()


def test_launcher_administer_a_study_opens_its_admin_login(qtbot, tmp_path, photo_study):
    launcher, flow = _launcher(qtbot, tmp_path, str(photo_study))
    qtbot.mouseClick(launcher.admin_button, Qt.MouseButton.LeftButton)
    shell = flow.admin_window
    qtbot.addWidget(shell)
    assert shell.currentWidget() is shell.login and not launcher.isVisible()
    shell.login.password_edit.setText("wrong-password")
    qtbot.mouseClick(shell.login.login_button, Qt.MouseButton.LeftButton)
    assert shell.admin is None and "Wrong admin password" in shell.login.message_label.text()
    shell.login.password_edit.setText(ADMIN_PASSWORD)
    with qtbot.waitSignal(shell.study_opened):
        qtbot.mouseClick(shell.login.login_button, Qt.MouseButton.LeftButton)
    assert shell.currentWidget() is shell.admin
    assert launcher.recent.list() == [photo_study.resolve()]  # the admin's study is now a recent study
    shell.close()


def test_launcher_administer_refuses_a_folder_without_a_study(qtbot, tmp_path):
    launcher, flow = _launcher(qtbot, tmp_path, str(tmp_path))
    qtbot.mouseClick(launcher.admin_button, Qt.MouseButton.LeftButton)
    assert flow.admin_window is None and launcher.isVisible()
    assert f"{tmp_path / 'study.toml'}: file not found" in launcher.message_label.text()


def test_sign_in_screen_opens_the_admin_login_of_its_study(qtbot, photo_study):
    from app.main_window import MainWindow
    from study.engine import StudyEngine

    engine = StudyEngine.open(photo_study)
    window = MainWindow(engine)
    qtbot.addWidget(window)
    window.show()
    assert window.screen == "login"
    qtbot.mouseClick(window.login.admin_button, Qt.MouseButton.LeftButton)
    shell = window.admin_window
    qtbot.addWidget(shell)
    assert isinstance(shell, AdminShellWidget) and shell.isVisible()
    assert shell.login is not None and shell.login.state.study_dir == photo_study
    assert window.screen == "login"  # the reader sign-in is untouched
    qtbot.mouseClick(window.login.admin_button, Qt.MouseButton.LeftButton)
    assert window.admin_window is shell  # one admin window per study window
    shell.close()
    engine.close()


def _run_admin_command(monkeypatch, argv: list[str]) -> AdminShellWidget:
    """Run `readerstudy admin ...` through the CLI's parser; the event loop quits once the window shows."""
    from app import cli
    from app.commands import admin

    assert cli.COMMANDS["admin"][0] == "app.commands.admin"
    made = []
    build = admin.build_admin_window

    def recording(study_dir):
        app, window = build(study_dir)
        made.append(window)
        return app, window

    monkeypatch.setattr(admin, "build_admin_window", recording)
    parser = argparse.ArgumentParser()
    admin.add_arguments(parser)
    shown = []

    def look_and_quit() -> None:  # runs inside the command's event loop
        shown.extend(w for w in made if w.isVisible())
        for w in made:
            w.close()  # the last window closed ends the event loop, as when the user closes it

    QTimer.singleShot(0, look_and_quit)
    assert admin.run(parser.parse_args(argv)) == 0
    assert len(made) == 1 and isinstance(made[0], AdminShellWidget) and shown == made
    return made[0]


def test_admin_command_without_a_study_opens_the_wizard(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("READERSTUDY_CONFIG_DIR", str(tmp_path / "cfg"))
    shell = _run_admin_command(monkeypatch, [])
    qtbot.addWidget(shell)
    assert shell.wizard is not None and shell.currentWidget() is shell.wizard
    assert shell.wizard.study_edit.text() == ""


def test_admin_command_with_a_study_opens_its_admin_login(qtbot, tmp_path, monkeypatch, photo_study):
    monkeypatch.setenv("READERSTUDY_CONFIG_DIR", str(tmp_path / "cfg"))
    shell = _run_admin_command(monkeypatch, [str(photo_study)])
    qtbot.addWidget(shell)
    assert shell.login is not None and shell.currentWidget() is shell.login
    assert shell.login.state.title == "photos"


def test_demo_sign_in_says_where_the_demo_admin_password_goes(qtbot, photo_study):
    from app.admin import open_admin
    from app.main_window import MainWindow, demo_hint
    from study.engine import StudyEngine

    real = open_admin(photo_study)
    qtbot.addWidget(real)
    assert real.login.state.hint == "" and real.login.hint_label.isHidden()
    engine = StudyEngine.open(photo_study)
    assert demo_hint(engine) == ""  # a real study never hints
    (photo_study / "demo.json").write_text("{}", encoding="utf-8")
    demo = open_admin(photo_study)
    qtbot.addWidget(demo)
    assert demo.login.hint_label.text() == "Demo study: the admin password is demo-admin."
    assert not demo.login.hint_label.isHidden()
    window = MainWindow(engine)
    qtbot.addWidget(window)
    assert "Study administration below: admin password demo-admin." in demo_hint(engine)
    assert "spec1 may start the aided session right after the unaided one." in demo_hint(engine)  # two sessions
    assert window.login.admin_button.text() == "Study administration\u2026"
    engine.close()
