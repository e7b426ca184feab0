"""The new-study wizard's match table: a DICOM export matched to viewport roles by rules.

One row per case (opaque code), one column per role; each cell offers the
volumes the rules scored (best first, with score) and "skip".  Missing and
tied cells start on "— decide —" and are shown in red: nothing is guessed.
"Build" writes the choices into matches.csv and runs the same intake as
``readerstudy new --from-dicom`` (off the GUI thread); cases.csv appears once
every cell is decided.  Changing a cell shows the middle slice of that
candidate (decoded in a worker) beside the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.workers import Worker, create_worker
from study.intake.build import BuildResult, build_from_dicom, write_choices
from study.intake.volumes import Volume
from study.media import load

DECIDE = "— decide —"


@dataclass
class MatchState:
    """What the match page shows: the paths typed, the last build and the researcher's choices."""

    study_dir: Path | None = None
    export_dir: Path | None = None
    truth_csv: Path | None = None
    rules_toml: Path | None = None
    result: BuildResult | None = None
    choices: dict[tuple[str, str], str] = field(default_factory=dict)
    message: str = ""

    def run(self, progress=None, cancel_event=None) -> BuildResult:  # type: ignore[no-untyped-def]
        """Write the choices, then index and match (the CLI's code path); runs in a worker.

        progress(done, total, seconds_left) is called from the worker thread while indexing;
        cancel_event (a threading.Event the worker's cancel() sets) stops the index, which resumes next time.
        """
        assert self.study_dir and self.export_dir and self.truth_csv
        if self.choices and (self.study_dir / "matches.csv").exists():
            write_choices(self.study_dir, self.choices)
        rules = None if (self.study_dir / "study.toml").exists() else self.rules_toml
        return build_from_dicom(
            self.study_dir,
            self.export_dir,
            self.truth_csv,
            rules_toml=rules,
            progress=progress,
            cancelled=cancel_event.is_set if cancel_event is not None else (lambda: False),
        )


def middle_slice(volume: Volume, size: int = 160) -> np.ndarray:
    """The volume's middle image as a (size x size at most) uint8 greyscale or RGB thumbnail; runs in a worker."""
    media = load(volume.files[len(volume.files) // 2])
    frame = np.asarray(media.frames[media.n_frames // 2])
    if frame.ndim == 2:
        center, width = media.window or (float(frame.mean()), float(np.ptp(frame)) or 1.0)
        frame = np.clip((frame - (center - width / 2)) / max(width, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    step = max(1, int(np.ceil(max(frame.shape[:2]) / size)))
    return np.ascontiguousarray(frame[::step, ::step])


class WizardMatchPanel(QWidget):
    matched = Signal(object)  # BuildResult, after the table is filled
    index_progressed = Signal(int, int, float)  # files read, files to read, seconds left (emitted by the worker)
    preview_shown = Signal(str)  # volume_id whose middle slice is on screen

    def __init__(self, state: MatchState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker: Worker | None = None
        self.study_edit, self.export_edit = QLineEdit(), QLineEdit()
        self.truth_edit, self.rules_edit = QLineEdit(), QLineEdit()
        self.export_edit.setPlaceholderText("a PACS or scanner export: any file names, DICOMDIR or not")
        self.truth_edit.setPlaceholderText("CSV with PatientID, truth")
        self.rules_edit.setPlaceholderText("TOML with [hanging] roles and [hanging.match.ROLE] rules")
        form = QFormLayout()
        for label, edit in (
            ("Study folder", self.study_edit),
            ("DICOM export", self.export_edit),
            ("Truth CSV", self.truth_edit),
            ("Rules", self.rules_edit),
        ):
            form.addRow(label, edit)
        self.build_button = QPushButton("Match and build")
        self.build_button.setObjectName("submitButton")
        self.build_button.clicked.connect(self.on_build_clicked)
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
        self.preview = QLabel("middle slice of the\nselected candidate")
        self.preview.setObjectName("hint")
        self.preview.setFixedSize(170, 170)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_worker: Worker | None = None
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignTop)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self.build_button)
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
        s.choices = self._read_choices()
        self.build_button.setEnabled(False)
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
        if result.wrote_cases:
            self.state.message = f"cases.csv written: {sum(not c.skipped for c in result.cases)} cases."
        else:
            self.state.message = f"{len(result.flagged)} cell(s) to decide (red), then build again."
        self.show_state()
        self.matched.emit(result)

    def on_build_aborted(self) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        self.message_label.setText("Cancelled; the index keeps what was read, Match and build resumes.")

    def on_build_failed(self, exc: BaseException) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        problems = getattr(exc, "problems", None) or [f"{type(exc).__name__}: {exc}"]
        self.state.message = "\n".join(problems)
        self.message_label.setText(self.state.message)

    def on_candidate_changed(self, box: QComboBox) -> None:
        volume_id = box.currentData()
        if volume_id is not None:
            box.setStyleSheet("")  # decided: no longer red
        volume = self._volume(volume_id) if volume_id not in (None, "skip") else None
        if volume is None:
            self.preview.clear()
            return
        self.preview_worker = create_worker(
            middle_slice,
            volume,
            _start=True,
            _connect={
                "result_ready": lambda img, vid=volume_id: self.on_preview_loaded(vid, img),
                "errored": lambda exc: self.preview.setText(f"cannot show:\n{exc}"),
            },
        )

    def on_preview_loaded(self, volume_id: str, img: np.ndarray) -> None:
        h, w = img.shape[:2]
        fmt = QImage.Format.Format_RGB888 if img.ndim == 3 else QImage.Format.Format_Grayscale8
        qimg = QImage(img.data, w, h, img.strides[0], fmt).copy()
        self.preview.setPixmap(QPixmap.fromImage(qimg).scaled(160, 160, Qt.AspectRatioMode.KeepAspectRatio))
        self.preview_shown.emit(volume_id)

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
        self.table.clear()
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
                box.addItem("skip this case", "skip")
                if cm.skipped:
                    box.setCurrentIndex(box.findData("skip"))
                elif decided is not None:
                    box.setCurrentIndex(box.findData(decided.volume_id))
                box.setToolTip(
                    "; ".join(f"{x.volume.label()} score {x.score:g}" for x in rr.candidates[1:4]) or "no runners-up"
                )
                box.currentIndexChanged.connect(lambda _i, b=box: self.on_candidate_changed(b))
                self.table.setCellWidget(r, c + 1, box)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for c in range(1, self.table.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and any(line.startswith(item.text() + " /") for line in result.flagged):
                item.setForeground(QBrush(QColor("#d9534f")))


def open_match_dialog(parent: QWidget, study_dir: str = "", on_created=None) -> QDialog:  # type: ignore[no-untyped-def]
    """The match panel in its own window (the wizard's "From a DICOM export…" button).

    on_created(Path) is called once a build wrote cases.csv.
    """
    dialog = QDialog(parent)
    dialog.setWindowTitle("New study from a DICOM export")
    panel = WizardMatchPanel(MatchState())
    panel.study_edit.setText(study_dir)
    if on_created is not None:
        panel.matched.connect(lambda r: on_created(panel.state.study_dir) if r.wrote_cases else None)
    QVBoxLayout(dialog).addWidget(panel)
    dialog.resize(1100, 480)
    dialog.show()
    return dialog
