"""`readerstudy` without arguments: the launcher, then the chosen study's window (or its admin window)."""

from __future__ import annotations

from pathlib import Path

from study.errors import StudyError


class LaunchFlow:
    """Launcher -> study window; a study that fails to open leaves the launcher up with the reason."""

    def __init__(self, launcher) -> None:
        self.launcher = launcher
        self.window = None
        self.admin_window = None
        launcher.study_chosen.connect(self.on_study_chosen)
        launcher.admin_requested.connect(self.on_admin_requested)

    def on_study_chosen(self, path: str) -> None:
        from app.commands.open_study import open_engine
        from app.main_window import MainWindow

        try:
            engine = open_engine(path)
        except StudyError as err:
            self.launcher.show_message(str(err))
            return
        self.launcher.recent.add(Path(path))
        self.window = MainWindow(engine)
        setup = self.launcher.demo_setup
        if setup is not None and setup.running:
            # The demo keeps building and computing AI outputs: say so on the study window.
            self.window.show_background_status(setup.status)
            setup.status_changed.connect(self.window.show_background_status)
        self.window.show()
        self.launcher.close()

    def on_admin_requested(self, path: str) -> None:
        """The admin login of a study, or the new-study wizard ("" as path); the launcher closes."""
        from app.admin import open_admin

        self.admin_window = open_admin(Path(path) if path else None)
        self.admin_window.study_opened.connect(self.launcher.recent.add)
        self.admin_window.show()
        self.launcher.close()


def run_launcher(demo_dir: Path | None = None, demo_args: list[str] | None = None) -> int:
    """The launcher; with ``demo_args`` it starts building the demo in ``demo_dir`` at once."""
    from app.launcher import LauncherWidget
    from app.reading.theme import ensure_application

    app = ensure_application()
    launcher = LauncherWidget(demo_dir=demo_dir)
    flow = LaunchFlow(launcher)
    launcher.show()
    if demo_args is not None:
        launcher.start_demo(demo_args)
    code = app.exec()
    if launcher.demo_setup is not None:
        launcher.demo_setup.stop()  # what it finished is stored; the next `readerstudy demo` resumes
    from app.commands.open_study import finish_background_work

    finish_background_work()
    if flow.window is not None:
        flow.window.engine.close()
    return int(code)
