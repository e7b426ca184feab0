"""The launcher: recent studies, open a study folder, build and open the demo, and the
researcher's entries (a new study in the wizard, the admin screens of a study).

Recent studies are a small JSON list in the user's config folder
(``READERSTUDY_CONFIG_DIR`` overrides it, e.g. in tests).  The demo is built by
the headless ``readerstudy demo`` command in a child process (``DemoSetup``), so
building and precomputing AI outputs never run torch inside the GUI process; the
MRI study opens as soon as it is ready and the rest goes on in the background.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from app.demo_setup import DemoSetup
from app.reading.card import centred_card

MAX_RECENT = 8


def config_dir() -> Path:
    env = os.environ.get("READERSTUDY_CONFIG_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "readerstudy"


def default_demo_dir() -> Path:
    """`make demo` builds into ./demo-studies; elsewhere the demo goes to ~/readerstudy-demo."""
    local = Path.cwd() / "demo-studies"
    return local if (local / "mri" / "study.toml").is_file() else Path.home() / "readerstudy-demo"


def study_title(study_dir: Path) -> str:
    """The protocol's title, or the folder name when the protocol cannot be read."""
    from study.errors import StudyError
    from study.protocol import load_protocol

    try:
        return load_protocol(study_dir).title or study_dir.name
    except StudyError:
        return study_dir.name


class RecentStudies:
    """Most recent first; folders that no longer hold a study.toml are skipped."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "recent.json"

    def list(self) -> list[Path]:
        try:
            items = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        paths = [Path(p) for p in items if isinstance(p, str)]
        return [p for p in paths if (p / "study.toml").is_file()][:MAX_RECENT]

    def add(self, study_dir: str | Path, position: int = 0) -> None:
        """``study_dir`` at ``position`` (0: the most recent), moved there if listed already."""
        study_dir = Path(study_dir).resolve()
        items = [p for p in self.list() if p != study_dir]
        items.insert(max(0, position), study_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps([str(p) for p in items[:MAX_RECENT]], indent=1), encoding="utf-8")


class LauncherWidget(QWidget):
    """Emits ``study_chosen(path)``; the caller opens it (and reports errors back)."""

    study_chosen = Signal(str)
    admin_requested = Signal(str)  # a study folder, or "" for the new-study wizard

    def __init__(
        self,
        recent: RecentStudies | None = None,
        demo_dir: Path | None = None,
        choose_folder: Callable[[QWidget], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("launcherScreen")
        self.setWindowTitle("readerstudy")
        self.recent = recent or RecentStudies()
        self.demo_dir = demo_dir or default_demo_dir()
        self._choose_folder = choose_folder or (
            lambda parent: QFileDialog.getExistingDirectory(parent, "Open a study folder")
        )
        self.demo_setup: DemoSetup | None = None
        self._demo_opened = False
        self._demo_listed = 0

        _, col = centred_card(self, 560)
        title = QLabel("readerstudy")
        title.setObjectName("appTitle")
        subtitle = QLabel("AI-assisted clinical reader studies")
        subtitle.setObjectName("hint")
        col.addWidget(title)
        col.addWidget(subtitle)
        col.addSpacing(10)
        recent_label = QLabel("Recent studies")
        recent_label.setObjectName("sectionLabel")
        col.addWidget(recent_label)
        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recentList")
        self.recent_list.setMinimumHeight(232)  # four two-line entries without scrolling
        self.recent_list.itemActivated.connect(self.on_recent_activated)
        col.addWidget(self.recent_list)
        self.empty_label = QLabel("No recent studies yet.")
        self.empty_label.setObjectName("hint")
        col.addWidget(self.empty_label)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open study folder\u2026")
        self.open_button.setObjectName("submitButton")
        self.open_button.clicked.connect(self.on_open_clicked)
        self.demo_button = QPushButton("Build and open the demo")
        self.demo_button.clicked.connect(self.on_demo_clicked)
        row.addWidget(self.open_button)
        row.addWidget(self.demo_button)
        row.addStretch(1)
        col.addLayout(row)
        col.addSpacing(6)
        admin_label = QLabel("Researchers")
        admin_label.setObjectName("sectionLabel")
        col.addWidget(admin_label)
        admin_row = QHBoxLayout()
        self.new_study_button = QPushButton("New study\u2026")
        self.new_study_button.setToolTip("Build a study from a media folder and a truth table (the wizard)")
        self.new_study_button.clicked.connect(self.on_new_study_clicked)
        self.admin_button = QPushButton("Administer a study\u2026")
        self.admin_button.setToolTip("Readers, model and precompute, results and export (admin password)")
        self.admin_button.clicked.connect(self.on_admin_clicked)
        admin_row.addWidget(self.new_study_button)
        admin_row.addWidget(self.admin_button)
        admin_row.addStretch(1)
        col.addLayout(admin_row)
        self.message_label = QLabel()
        self.message_label.setObjectName("problemLabel")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.message_label)
        self.status_label = QLabel()
        self.status_label.setObjectName("hint")
        self.status_label.setWordWrap(True)
        self.status_label.setVisible(False)
        col.addWidget(self.status_label)
        self.resize(900, 640)
        self.refresh()

    def refresh(self) -> None:
        self.recent_list.clear()
        for path in self.recent.list():
            item = QListWidgetItem(f"{study_title(path)}\n{path}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            self.recent_list.addItem(item)
        has = self.recent_list.count() > 0
        self.recent_list.setVisible(has)
        self.empty_label.setVisible(not has)
        if has:
            self.recent_list.setCurrentRow(0)
            self.recent_list.setFocus()

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)

    def on_recent_activated(self, item: QListWidgetItem) -> None:
        self.study_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def on_open_clicked(self) -> None:
        folder = self._choose_folder(self)
        if folder:
            self.study_chosen.emit(folder)

    def on_new_study_clicked(self) -> None:
        self.admin_requested.emit("")

    def on_admin_clicked(self) -> None:
        folder = self._choose_folder(self)
        if not folder:
            return
        if not (Path(folder) / "study.toml").is_file():
            self.show_message(
                f"{Path(folder) / 'study.toml'}: file not found; choose a study folder, or New study\u2026 to build one"
            )
            return
        self.admin_requested.emit(folder)

    def on_demo_clicked(self) -> None:
        self.start_demo()

    def start_demo(self, extra_args: list[str] | tuple[str, ...] = ()) -> None:
        """Build (or resume) the demo in the background; the MRI study opens when it is ready."""
        if self.demo_setup is not None and self.demo_setup.running:
            return
        mri = self.demo_dir / "mri"
        if (mri / "study.toml").is_file() and not (mri / "demo.json").is_file():
            self.study_chosen.emit(str(mri))  # a study someone put there: open it, build nothing
            return
        self.demo_button.setEnabled(False)
        self.demo_setup = DemoSetup(self.demo_dir, extra_args, parent=self)
        self.demo_setup.status_changed.connect(self.show_status)
        self.demo_setup.study_ready.connect(self.on_demo_study_ready)
        self.demo_setup.setup_finished.connect(self.on_demo_finished)
        self._demo_opened = False
        self._demo_listed = 0  # demo studies ready so far, listed at the top of the recent studies
        self.demo_setup.start()

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def on_demo_study_ready(self, _name: str, folder: str) -> None:
        # Every demo study is a recent study, in build order below the first one (the one that opens).
        self.recent.add(folder, self._demo_listed)
        self._demo_listed += 1
        self.refresh()
        # The first study ready opens (the MRI one, built first); the rest keeps building.
        if not self._demo_opened:
            self._demo_opened = True
            self.study_chosen.emit(folder)

    def on_demo_finished(self, code: int, tail: str) -> None:
        self.demo_button.setEnabled(True)
        if code != 0 and not self.demo_setup.ready:
            self.show_message(
                f"The demo could not be built (exit code {code}):\n{tail}\n"
                f"Run it by hand to see more: readerstudy demo --build {self.demo_dir} --no-open"
            )
