"""The new-study wizard's match table: a DICOM export matched to viewport roles by rules.

One row per case (opaque code), one column per role; each cell offers the
volumes the rules scored (best first, with score) and "skip".  Missing and
tied cells start on "— decide —" and are shown in red: nothing is guessed.
"Match" indexes the export (into the user's cache) and matches, off the GUI
thread, with the researcher's choices; it writes nothing into the study folder.
Once every cell is decided, "Next: protocol and admin password" hands the cases
to the wizard, which ends as the folder route does (Protocol page, admin
password, Create through ``study.wizard.write_study``).  Beside the table, the
cell being decided shows a middle-slice thumbnail of EACH of its candidates
(decoded one by one in a worker, best-scored first, the current choice framed);
clicking a thumbnail chooses that candidate.  Optional roles offer "none" (the
case keeps its other roles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import Worker, create_worker
from study.errors import StudyError
from study.intake.build import NONE, BuildResult, match_export, rules_protocol
from study.intake.create import MEDIA, stage_cases
from study.intake.volumes import Volume
from study.media import load
from study.wizard import DraftCase, random_seed

DECIDE = "— decide —"


@dataclass
class MatchState:
    """What the match page shows: the paths typed, the last match, the researcher's choices and,
    once every cell is decided, the cases staged for the wizard (links outside the study folder)."""

    study_dir: Path | None = None
    export_dir: Path | None = None
    truth_csv: Path | None = None
    rules_toml: Path | None = None
    result: BuildResult | None = None
    choices: dict[tuple[str, str], str] = field(default_factory=dict)
    message: str = ""
    seed: int = field(default_factory=random_seed)  # orders the opaque case codes
    media: str = "copy"  # one of study.intake.create.MEDIA
    staged: tuple[DraftCase, ...] = ()
    staging: object = field(default=None, repr=False)  # the TemporaryDirectory of the staged links; removed with it

    def run(self, progress=None, cancel_event=None) -> BuildResult:  # type: ignore[no-untyped-def]
        """Index and match (the CLI's code path) with the choices made so far; runs in a worker.
        Writes nothing into the study folder: a study already there is refused, never rebuilt.

        progress(done, total, seconds_left) is called from the worker thread while indexing;
        cancel_event (a threading.Event the worker's cancel() sets) stops the index, which resumes next time.
        """
        import tempfile

        assert self.study_dir and self.export_dir and self.truth_csv
        study = self.study_dir.expanduser().resolve()
        if (study / "study.toml").exists():
            raise StudyError([f"{study / 'study.toml'}: already exists; choose an empty study folder"])
        if self.rules_toml is None:
            raise StudyError(["Rules: choose the TOML file with [hanging] roles and [hanging.match.ROLE] rules"])
        protocol = rules_protocol(self.rules_toml, study.name, seed=self.seed)
        result, _, _ = match_export(
            self.export_dir,
            self.truth_csv,
            protocol,
            choices=self.choices,
            progress=progress,
            cancelled=cancel_event.is_set if cancel_event is not None else (lambda: False),
        )
        self.staged = ()
        if not result.flagged:  # links only (no copies), outside the study folder; gone with this state
            self.staging = tempfile.TemporaryDirectory(prefix="readerstudy-staging-")
            self.staged = stage_cases(result, Path(self.staging.name))
        return result


def middle_slice(volume: Volume, size: int = 160) -> np.ndarray:
    """The volume's middle image as a (size x size at most) uint8 greyscale or RGB thumbnail; runs in a worker."""
    media = load(volume.files[len(volume.files) // 2])
    frame = np.asarray(media.frames[media.n_frames // 2])
    if frame.ndim == 2:
        center, width = media.window or (float(frame.mean()), float(np.ptp(frame)) or 1.0)
        frame = np.clip((frame - (center - width / 2)) / max(width, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    step = max(1, int(np.ceil(max(frame.shape[:2]) / size)))
    return np.ascontiguousarray(frame[::step, ::step])


def middle_slices(volumes: list[Volume], size: int = 160):  # type: ignore[no-untyped-def]
    """Generator for a worker: yields (volume_id, thumbnail or None, error text) per volume, in order."""
    for volume in volumes:
        try:
            yield volume.volume_id, middle_slice(volume, size), ""
        except Exception as exc:  # noqa: BLE001 - shown on the tile, never swallowed: the file may be damaged
            yield volume.volume_id, None, f"{type(exc).__name__}: {exc}"


def to_pixmap(img: np.ndarray) -> QPixmap:
    """A uint8 (h, w) or (h, w, 3) array as a QPixmap (copied: the array may go)."""
    h, w = img.shape[:2]
    fmt = QImage.Format.Format_RGB888 if img.ndim == 3 else QImage.Format.Format_Grayscale8
    return QPixmap.fromImage(QImage(img.data, w, h, img.strides[0], fmt).copy())


def _path_row(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class WizardMatchPanel(QWidget):
    matched = Signal(object)  # BuildResult, after the table is filled
    resolved = Signal(object)  # BuildResult with every cell decided: "Next: protocol and admin password" pressed
    index_progressed = Signal(int, int, float)  # files read, files to read, seconds left (emitted by the worker)
    preview_shown = Signal(str)  # volume_id whose middle-slice thumbnail is on screen
    candidates_shown = Signal(str, str)  # (case code, role): every candidate of that cell has its thumbnail
    THUMB = 120

    def __init__(self, state: MatchState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker: Worker | None = None
        self.study_edit, self.export_edit = QLineEdit(), QLineEdit()
        self.truth_edit, self.rules_edit = QLineEdit(), QLineEdit()
        self.export_edit.setPlaceholderText("a PACS or scanner export: any file names, DICOMDIR or not")
        self.truth_edit.setPlaceholderText("CSV with PatientID, truth")
        self.rules_edit.setPlaceholderText("TOML with [hanging] roles and [hanging.match.ROLE] rules")
        self.study_edit.setPlaceholderText("an empty folder for the new study")
        self.browse_buttons = [QPushButton("Browse…") for _ in range(4)]
        self.browse_buttons[0].clicked.connect(lambda: self._pick_dir(self.study_edit, "Study folder"))
        self.browse_buttons[1].clicked.connect(lambda: self._pick_dir(self.export_edit, "DICOM export"))
        self.browse_buttons[2].clicked.connect(
            lambda: self._pick_file(self.truth_edit, "Truth CSV", "CSV (*.csv);;All files (*)")
        )
        self.browse_buttons[3].clicked.connect(
            lambda: self._pick_file(self.rules_edit, "Rules", "TOML (*.toml);;All files (*)")
        )
        self.media_box = QComboBox()
        for mode, text in MEDIA.items():
            self.media_box.addItem(text, mode)
        self.media_box.setCurrentIndex(self.media_box.findData(state.media))
        form = QFormLayout()
        for (label, edit), button in zip(
            (
                ("Study folder", self.study_edit),
                ("DICOM export", self.export_edit),
                ("Truth CSV", self.truth_edit),
                ("Rules", self.rules_edit),
            ),
            self.browse_buttons,
            strict=True,
        ):
            form.addRow(label, _path_row(edit, button))
        form.addRow("Media", self.media_box)
        self.build_button = QPushButton("Match")
        self.build_button.setToolTip("index the export and match its volumes to the roles; nothing is written yet")
        self.build_button.clicked.connect(self.on_build_clicked)
        self.next_button = QPushButton("Next: protocol and admin password ›")
        self.next_button.setObjectName("submitButton")
        self.next_button.setEnabled(False)
        self.next_button.clicked.connect(self.on_next_clicked)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.index_progressed.connect(self.on_index_progressed)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.on_cancel_clicked)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.candidates_title = QLabel("Candidates: choose a cell")
        self.candidates_title.setObjectName("hint")
        self.candidates_title.setWordWrap(True)
        self.candidate_list = QWidget()
        self.candidate_layout = QVBoxLayout(self.candidate_list)
        self.candidate_layout.setContentsMargins(0, 0, 0, 0)
        self.candidate_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.candidate_list)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side = QVBoxLayout()
        side.addWidget(self.candidates_title)
        side.addWidget(scroll, 1)
        side_box = QWidget()
        side_box.setLayout(side)
        side_box.setFixedWidth(self.THUMB + 150)
        self.tiles: dict[str, QToolButton] = {}  # volume_id -> tile of the cell on show
        self.shown_cell: tuple[str, str] | None = None
        self.thumbnails: dict[str, QPixmap] = {}  # volume_id -> thumbnail, decoded once
        self.preview_worker: Worker | None = None
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addWidget(side_box)
        col = QVBoxLayout(self)
        col.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.build_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        col.addLayout(buttons)
        bar = QHBoxLayout()
        bar.addWidget(self.progress_bar, 1)
        bar.addWidget(self.cancel_button)
        col.addLayout(bar)
        col.addLayout(body, 1)
        col.addWidget(self.message_label)

    def on_build_clicked(self) -> None:
        s = self.state
        s.study_dir = Path(self.study_edit.text()) if self.study_edit.text() else None
        s.export_dir = Path(self.export_edit.text()) if self.export_edit.text() else None
        s.truth_csv = Path(self.truth_edit.text()) if self.truth_edit.text() else None
        s.rules_toml = Path(self.rules_edit.text()) if self.rules_edit.text() else None
        if not (s.study_dir and s.export_dir and s.truth_csv):
            self.message_label.setText("Study folder, DICOM export and truth CSV are needed.")
            return
        s.media = self.media_box.currentData()
        s.choices = self._read_choices()
        self.build_button.setEnabled(False)
        self.next_button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.message_label.setText("Indexing and matching…")
        emit = self.index_progressed.emit  # a signal: crosses from the worker thread to the GUI thread
        self.worker = create_worker(
            s.run,
            lambda d, t, left: emit(d, t, -1.0 if left is None else left),
            _start=True,
            _connect={
                "result_ready": self.on_build_finished,
                "errored": self.on_build_failed,
                "aborted": self.on_build_aborted,
            },
        )

    def on_index_progressed(self, done: int, total: int, seconds_left: float) -> None:
        self.progress_bar.setVisible(True)
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        eta = f", about {seconds_left:.0f} s left" if seconds_left >= 0 and done < total else ""
        self.progress_bar.setFormat(f"headers read: {done}/{total}{eta}")

    def on_cancel_clicked(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def on_build_finished(self, result: BuildResult) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        self.state.result = result
        if result.flagged:
            self.state.message = f"{len(result.flagged)} cell(s) to decide (red), then Match again."
        else:
            self.state.message = (
                f"Every cell decided: {len(self.state.staged)} cases. Next: the protocol and the admin "
                "password; nothing is written into the study folder before Create."
            )
        self.next_button.setEnabled(not result.flagged and bool(self.state.staged))
        self.show_state()
        self.matched.emit(result)

    def on_next_clicked(self) -> None:
        """Every cell decided: the wizard goes on to its Protocol page with these cases."""
        s = self.state
        if s.result is None or s.result.flagged or not s.staged:
            return
        s.media = self.media_box.currentData()
        self.resolved.emit(s.result)

    def _pick_dir(self, edit: QLineEdit, title: str) -> None:
        path = QFileDialog.getExistingDirectory(self, title, edit.text())
        if path:
            edit.setText(path)

    def _pick_file(self, edit: QLineEdit, title: str, filters: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, edit.text(), filters)
        if path:
            edit.setText(path)

    def on_build_aborted(self) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        self.message_label.setText("Cancelled; the index keeps what was read, Match resumes.")

    def on_build_failed(self, exc: BaseException) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        problems = getattr(exc, "problems", None) or [f"{type(exc).__name__}: {exc}"]
        self.state.message = "\n".join(problems)
        self.message_label.setText(self.state.message)

    def on_candidate_changed(self, box: QComboBox) -> None:
        if box.currentData() is not None:
            box.setStyleSheet("")  # decided: no longer red
        if self.next_button.isEnabled():  # the staged cases are the last match's: match again first
            self.next_button.setEnabled(False)
            self.message_label.setText("A choice changed: press Match again, then Next.")
        cell = next((k for k, b in self._boxes().items() if b is box), None)
        if cell is not None:
            self.show_candidates(*cell)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.FocusIn) and isinstance(watched, QComboBox):
            cell = next((k for k, b in self._boxes().items() if b is watched), None)
            if cell is not None and cell != self.shown_cell:
                self.show_candidates(*cell)
        return super().eventFilter(watched, event)

    def candidate_volumes(self, code: str, role: str) -> list[Volume]:
        """The cell's candidates, best score first; a cell no rule matched offers every volume of its case."""
        result = self.state.result
        cm = next((c for c in result.cases if c.code == code), None) if result is not None else None
        if cm is None:
            return []
        rr = next(r for r in cm.results if r.role == role)
        return [c.volume for c in rr.candidates] or list(cm.unit.volumes)

    def show_candidates(self, code: str, role: str) -> None:
        """One tile per candidate of the cell; thumbnails not yet decoded are decoded in a worker."""
        box = self._boxes().get((code, role))
        volumes = self.candidate_volumes(code, role)
        if (code, role) != self.shown_cell:
            self.shown_cell = (code, role)
            self._clear_tiles()
            scores = {}
            cm = next(c for c in self.state.result.cases if c.code == code)  # type: ignore[union-attr]
            for c in next(r for r in cm.results if r.role == role).candidates:
                scores[c.volume.volume_id] = c.score
            for v in volumes:
                tile = QToolButton()
                tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
                tile.setIconSize(QSize(self.THUMB, self.THUMB))
                tile.setCheckable(True)
                score = f"score {scores[v.volume_id]:g}" if v.volume_id in scores else "no rule matched"
                tile.setText(f"{v.label()}\n{score}")
                tile.setToolTip(v.label())
                tile.setMinimumWidth(self.THUMB + 110)
                tile.clicked.connect(lambda _c=False, vid=v.volume_id: self.on_tile_clicked(vid))
                if v.volume_id in self.thumbnails:
                    tile.setIcon(QIcon(self.thumbnails[v.volume_id]))
                self.candidate_layout.insertWidget(self.candidate_layout.count() - 1, tile)
                self.tiles[v.volume_id] = tile
            self.candidates_title.setText(f"{code} / {role}: {len(volumes)} candidate(s), best first")
            if self.preview_worker is not None:
                self.preview_worker.cancel()
            todo = [v for v in volumes if v.volume_id not in self.thumbnails]
            if todo:
                self.preview_worker = create_worker(
                    middle_slices,
                    todo,
                    self.THUMB,
                    _start=True,
                    _connect={
                        "progress": lambda item, cell=(code, role): self.on_thumbnail_loaded(cell, *item),
                        "errored": lambda exc: self.candidates_title.setText(f"cannot show thumbnails: {exc}"),
                    },
                )
            else:
                self.candidates_shown.emit(code, role)
        chosen = box.currentData() if box is not None else None
        for vid, tile in self.tiles.items():
            tile.setChecked(vid == chosen)

    def on_thumbnail_loaded(self, cell: tuple[str, str], volume_id: str, img: np.ndarray | None, error: str) -> None:
        if img is not None:
            self.thumbnails[volume_id] = to_pixmap(img).scaled(
                self.THUMB,
                self.THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        if cell != self.shown_cell or volume_id not in self.tiles:
            return  # the researcher moved on to another cell
        tile = self.tiles[volume_id]
        if img is None:
            tile.setText(f"{tile.text()}\ncannot show: {error}")
        else:
            tile.setIcon(QIcon(self.thumbnails[volume_id]))
        self.preview_shown.emit(volume_id)
        if all(vid in self.thumbnails or "cannot show" in t.text() for vid, t in self.tiles.items()):
            self.candidates_shown.emit(*cell)

    def _clear_tiles(self) -> None:
        for tile in self.tiles.values():
            self.candidate_layout.removeWidget(tile)
            tile.hide()
            tile.deleteLater()
        self.tiles = {}

    def on_tile_clicked(self, volume_id: str) -> None:
        """A thumbnail clicked: its volume becomes the cell's choice."""
        if self.shown_cell is None:
            return
        box = self._boxes().get(self.shown_cell)
        if box is not None:
            box.setCurrentIndex(box.findData(volume_id))
        for vid, tile in self.tiles.items():
            tile.setChecked(vid == volume_id)

    def _volume(self, volume_id: str) -> Volume | None:
        result = self.state.result
        if result is None:
            return None
        return next((v for c in result.cases for v in c.unit.volumes if v.volume_id == volume_id), None)

    def _read_choices(self) -> dict[tuple[str, str], str]:
        out = {}
        for (code, role), box in self._boxes().items():
            value = box.currentData()
            if value is not None and value != box.property("automatic"):
                out[(code, role)] = value  # only what the researcher changed; the rest stays automatic
        return out

    def _boxes(self) -> dict[tuple[str, str], QComboBox]:
        result = self.state.result
        if result is None:
            return {}
        roles = result.protocol.hanging.roles
        return {
            (self.table.item(r, 0).text() if self.table.item(r, 0) else "", role): self.table.cellWidget(r, c + 1)
            for r in range(self.table.rowCount())
            for c, role in enumerate(roles)
        }

    def show_state(self) -> None:
        from PySide6.QtWidgets import QTableWidgetItem

        result = self.state.result
        self.message_label.setText(self.state.message)
        if result is None:
            return
        roles = result.protocol.hanging.roles
        optional = {m.role: m.optional for m in result.protocol.hanging.match}
        self.table.clear()
        self.shown_cell = None
        self._clear_tiles()
        self.table.setColumnCount(1 + len(roles))
        self.table.setHorizontalHeaderLabels(["Case", *roles])
        cases = sorted(result.cases, key=lambda c: c.code)
        self.table.setRowCount(len(cases))
        for r, cm in enumerate(cases):
            self.table.setItem(r, 0, QTableWidgetItem(cm.code))  # opaque code only
            for c, rr in enumerate(cm.results):
                box = QComboBox()
                box.setProperty("automatic", rr.chosen.volume_id if rr.chosen is not None else None)
                choice = cm.choices.get(rr.role, "")
                decided = cm.decided(rr.role)
                if rr.status != "ok" and not choice:
                    box.addItem(DECIDE, None)
                    box.setStyleSheet("QComboBox { background: #7a2430; color: white; }")
                for cand in rr.candidates:
                    box.addItem(f"{cand.volume.label()} — score {cand.score:g}", cand.volume.volume_id)
                for v in cm.unit.volumes:  # any other volume of the case, for a manual choice
                    if all(v.volume_id != cand.volume.volume_id for cand in rr.candidates):
                        box.addItem(f"{v.label()} — no rule matched", v.volume_id)
                if optional.get(rr.role):
                    box.addItem("none (optional role: this case without it)", NONE)
                box.addItem("skip this case", "skip")
                if cm.skipped:
                    box.setCurrentIndex(box.findData("skip"))
                elif cm.left_empty(rr.role):
                    box.setCurrentIndex(box.findData(NONE))
                elif decided is not None:
                    box.setCurrentIndex(box.findData(decided.volume_id))
                box.setToolTip(
                    "; ".join(f"{x.volume.label()} score {x.score:g}" for x in rr.candidates[1:4]) or "no runners-up"
                )
                box.currentIndexChanged.connect(lambda _i, b=box: self.on_candidate_changed(b))
                box.installEventFilter(self)  # pressing a cell's box shows that cell's candidates
                self.table.setCellWidget(r, c + 1, box)
        boxes = list(self._boxes().values())
        if boxes:  # rows as tall as a choice box under the app's stylesheet (else its text is cut)
            self.table.verticalHeader().setDefaultSectionSize(max(b.sizeHint().height() for b in boxes) + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for c in range(1, self.table.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and any(line.startswith(item.text() + " /") for line in result.flagged):
                item.setForeground(QBrush(QColor("#d9534f")))
        # The first cell to decide (else the first cell) shows its candidates at once.
        first = next((line.split(":")[0].split(" / ") for line in result.flagged), None)
        if first is None and cases:
            first = [cases[0].code, roles[0]]
        if first is not None and (first[0], first[1]) in self._boxes():
            self.show_candidates(first[0], first[1])


def open_match_dialog(parent: QWidget, study_dir: str = "", truth_csv: str = "", on_resolved=None) -> QDialog:  # type: ignore[no-untyped-def]
    """The match panel in its own window (the wizard's "From a DICOM export…" button), with the
    study folder and truth CSV typed on the wizard's Files page.

    on_resolved(panel) is called when every cell is decided and "Next" is pressed; the dialog
    then closes (the wizard goes on to its Protocol page); nothing has been written by then.
    """
    dialog = QDialog(parent)
    dialog.setWindowTitle("New study from a DICOM export")
    panel = WizardMatchPanel(MatchState())
    panel.study_edit.setText(study_dir)
    panel.truth_edit.setText(truth_csv)
    if on_resolved is not None:
        panel.resolved.connect(lambda _r: (dialog.hide(), on_resolved(panel)))
    QVBoxLayout(dialog).addWidget(panel)
    dialog.resize(1100, 520)
    dialog.show()
    return dialog
