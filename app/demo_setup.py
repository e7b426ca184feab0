"""The demo's set-up in the background: build, enrol, precompute, with progress.

``readerstudy demo --build DIR --no-open`` (the headless command) runs in a
child process, so building media and running torch never load the GUI
process or its thread pool.  Its output lines are the progress: ``ready: NAME
FOLDER`` when a study can be opened (the launcher then opens the MRI study),
``AI outputs for NAME: i/N`` while a model runs over a study.  The reader can
read unaided meanwhile; aided sessions wait for the AI outputs on their own
(the session list polls ``StudyEngine.ai_readiness``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

READY = re.compile(r"^ready: (\w+) (.+)$")
AI_PROGRESS = re.compile(r"^AI outputs for (\w+): (\d+)/(\d+)$")


def status_text(line: str) -> str | None:
    """The status-line text for one output line of the headless command (None: not worth showing)."""
    if m := AI_PROGRESS.match(line):
        name, done, total = m.group(1), int(m.group(2)), int(m.group(3))
        return f"Demo set-up: AI outputs for the {name} study being computed: {done * 100 // total} % ({done}/{total})"
    if m := READY.match(line):
        return f"Demo set-up: the {m.group(1)} study is ready"
    if line.startswith("AI outputs for "):
        return "Demo set-up: " + line
    if line.startswith("built "):
        return "Demo set-up: " + line.split(":")[0]
    return None


class DemoSetup(QObject):
    """Runs the headless demo command in a child process and reports as it goes.

    Signals: ``study_ready(name, folder)`` once per study, ``status_changed(text)``
    for a status line, ``setup_finished(exit_code, last_lines)`` at the end.
    """

    study_ready = Signal(str, str)
    status_changed = Signal(str)
    setup_finished = Signal(int, str)

    def __init__(
        self, demo_dir: Path, extra_args: list[str] | tuple[str, ...] = (), parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.demo_dir = Path(demo_dir)
        self.extra_args = list(extra_args)
        self.status = ""
        self.ready: dict[str, str] = {}
        self._tail: list[str] = []
        self._partial = b""
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self.on_output)
        self.process.finished.connect(self.on_process_finished)

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def start(self) -> None:
        self.status = f"Demo set-up: building the demo studies in {self.demo_dir}"
        self.status_changed.emit(self.status)
        self.process.start(
            sys.executable,
            ["-u", "-m", "app.cli", "demo", "--build", str(self.demo_dir), "--no-open", *self.extra_args],
        )

    def stop(self, timeout_ms: int = 3000) -> None:
        """End the child (its finished cases are stored; the next `readerstudy demo` resumes)."""
        if self.running:
            self.process.terminate()
            if not self.process.waitForFinished(timeout_ms):
                self.process.kill()
                self.process.waitForFinished(timeout_ms)

    def on_output(self) -> None:
        data = self._partial + bytes(self.process.readAllStandardOutput())
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            self._tail = (self._tail + [line])[-5:]
            if m := READY.match(line):
                self.ready[m.group(1)] = m.group(2)
                self.study_ready.emit(m.group(1), m.group(2))
            text = status_text(line)
            if text:
                self.status = text
                self.status_changed.emit(text)

    def on_process_finished(self, code: int, _status) -> None:
        self.on_output()
        if code == 0:
            self.status = "Demo set-up finished: every demo study is built and its AI outputs are computed."
        else:
            self.status = f"Demo set-up stopped (exit code {code}): {self._tail[-1] if self._tail else ''}"
        self.status_changed.emit(self.status)
        self.setup_finished.emit(code, "\n".join(self._tail))
