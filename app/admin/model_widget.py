"""Model screen: attach a spec, precompute in the background, unreadable cases, prediction + CAM preview."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.admin.model_state import ModelState, operating_point_text, prediction_text, run_precompute
from app.admin.tone import show_message
from app.viewer import ViewportWidget
from app.workers import Worker, create_worker


def _load_media(path: str):
    from study.media import load

    return load(path)


class ModelPanel(QWidget):
    precompute_finished = Signal()  # after result, abort or error
    preview_shown = Signal()

    def __init__(self, state: ModelState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker: Worker | None = None
        self.preview_worker: Worker | None = None

        spec_box = QGroupBox("Model")
        self.pick_button = QPushButton("Attach model spec…")
        self.pick_button.clicked.connect(self.on_pick_clicked)
        keys = ("file", "name", "architecture", "head", "threshold", "roles", "sha256")
        self.info = {k: QLabel() for k in keys}
        titles = {"sha256": "Weights sha256", "threshold": "Operating point"}
        form = QFormLayout()
        for key, label in self.info.items():
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(titles.get(key, key.capitalize()), label)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("problemLabel")
        self.problem_label.setWordWrap(True)
        # Shown when a spec does not fit yet: which study role each model role reads, and the
        # binary collapse of a multiclass model.
        self.fit_box = QGroupBox("Fit the model to this study")
        self.fit_form = QFormLayout(self.fit_box)
        self.role_boxes: dict[str, QComboBox] = {}
        self.positive_edit = QLineEdit()
        self.positive_edit.setPlaceholderText("model classes counted positive, e.g. CIN2+")
        self.fit_button = QPushButton("Attach with these choices")
        self.fit_button.setObjectName("submitButton")
        self.fit_button.clicked.connect(self.on_fit_clicked)
        self.role_rows = QWidget()
        self.positive_label = QLabel("Positive classes")
        self.fit_form.addRow(self.role_rows)
        self.fit_form.addRow(self.positive_label, self.positive_edit)
        self.fit_form.addRow(self.fit_button)
        scol = QVBoxLayout(spec_box)
        scol.addWidget(self.pick_button, 0, Qt.AlignmentFlag.AlignLeft)
        scol.addLayout(form)
        scol.addWidget(self.problem_label)
        scol.addWidget(self.fit_box)

        run_box = QGroupBox("Precompute predictions and CAMs")
        self.run_button = QPushButton("Run precompute")
        self.run_button.setObjectName("submitButton")
        self.run_button.clicked.connect(self.on_run_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.on_cancel_clicked)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m cases")
        self.eta_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.unreadable_list = QListWidget()
        self.unreadable_list.setMaximumHeight(140)
        self.unreadable_list.setWordWrap(True)  # causes are long file paths; never cut them off
        self.unreadable_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        # The bar and its ETA on a line of their own: beside the buttons, in the left column of a
        # 1000-pixel window, the bar was 99 pixels wide and cut "no model attached" in half.
        progress = QHBoxLayout()
        progress.addWidget(self.progress_bar, 1)
        progress.addWidget(self.eta_label)
        rcol = QVBoxLayout(run_box)
        rcol.addLayout(buttons)
        rcol.addLayout(progress)
        rcol.addWidget(self.status_label)
        self.unreadable_label = QLabel("Unreadable cases:")
        rcol.addWidget(self.unreadable_label)
        rcol.addWidget(self.unreadable_list)

        left = QVBoxLayout()
        left.addWidget(spec_box)
        left.addWidget(run_box)
        left.addStretch(1)

        preview_box = QGroupBox("Preview a case: image and CAM side by side")
        self.case_box = QComboBox()
        self.case_box.addItems(state.case_ids)
        self.role_box = QComboBox()
        self.role_box.addItems(list(state.roles))
        self.show_button = QPushButton("Show")
        self.show_button.clicked.connect(self.on_show_clicked)
        self.prediction_label = QLabel("Choose a case and a role, then Show.")
        self.prediction_label.setWordWrap(True)
        self.prediction_label.setObjectName("predictionLabel")
        self.image_view = ViewportWidget(controls=False)
        self.cam_view = ViewportWidget(controls=False)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Case"))
        pick.addWidget(self.case_box, 1)
        pick.addWidget(QLabel("Role"))
        pick.addWidget(self.role_box, 1)
        pick.addWidget(self.show_button)
        # The two views show the same frame: scrolling either moves both.
        self.image_view.slice_changed.connect(self.cam_view.set_slice)
        self.cam_view.slice_changed.connect(self.image_view.set_slice)
        views = QHBoxLayout()
        views.addWidget(self.image_view)
        views.addWidget(self.cam_view)
        pcol = QVBoxLayout(preview_box)
        pcol.addLayout(pick)
        pcol.addWidget(self.prediction_label)
        pcol.addLayout(views, 1)

        row = QHBoxLayout(self)
        row.addLayout(left, 2)
        row.addWidget(preview_box, 3)
        self.show_state()

    # -- view --------------------------------------------------------------------
    def show_state(self) -> None:
        s = self.state
        info = s.spec
        if info is not None:
            self.info["file"].setText(str(info.path))
            self.info["name"].setText(info.name or "(unnamed)")
            self.info["architecture"].setText(info.architecture)
            self.info["head"].setText(f"{info.head}: {', '.join(info.labels)}  ·  CAM {info.cam_method}")
            self.info["threshold"].setText(operating_point_text(info, s.positive))
            self.info["roles"].setText(
                ", ".join(
                    f"{r} \u2192 study role {s.role_map[r]}" if s.role_map.get(r, r) != r else r for r in info.roles
                )
                + (f"  \u00b7  positive: {', '.join(s.positive)}" if s.positive else "")
            )
            self.info["sha256"].setText(
                "\n".join(
                    f"{m.role}: {m.sha256_actual[:16]}… "
                    + ("✓ matches the spec" if m.ok else "✗ DIFFERS from the spec")
                    for m in info.members
                )
            )
        else:
            for label in self.info.values():
                label.setText("—")
        self.problem_label.setText("\n".join(s.problems))
        self.problem_label.setVisible(bool(s.problems))
        self._show_fit()
        self.run_button.setEnabled(info is not None and not s.running)
        self.pick_button.setEnabled(not s.running)
        self.cancel_button.setEnabled(s.running)
        done, total, eta = s.progress
        self.progress_bar.setMaximum(max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat("%v / %m cases" if total else "no model attached")
        self.eta_label.setText(s.eta)
        show_message(self.status_label, s.message, s.message_ok)
        self.unreadable_list.clear()
        self.unreadable_list.addItems([f"{cid}: {cause}" for cid, cause in s.unreadable])
        self.unreadable_label.setVisible(bool(s.unreadable))  # an empty box reads as "something is missing"
        self.unreadable_list.setVisible(bool(s.unreadable))
        if s.preview is not None:
            media, out = s.preview
            self.prediction_label.setText(f"{s.preview_case}: " + prediction_text(out))
            cams = out.cams.get(self.role_box.currentText()) if out is not None else None
            self.image_view.set_media(media, title="image")
            blank = cams is not None and not float(cams.max()) > 0
            self.cam_view.set_media(
                media,
                cams,
                title="no CAM stored"
                if cams is None
                else "image + CAM (blank: the CAM is zero everywhere)"
                if blank
                else "image + CAM",
            )
            self.cam_view.set_overlay_visible(cams is not None)
            # Both views open where the reading screen does (``opening_index``: the central slice,
            # a clip's first frame), never where the CAM is strongest: the researcher checks the
            # AI on the view readers get (a CAM with edge artefacts opened a series at slice 1).

    def _show_fit(self) -> None:
        """The fit box for a pending spec: a study-role choice per model role, the positive classes."""
        s = self.state
        offer = s.pending is not None and (bool(s.offer_roles) or s.offer_collapse)
        self.fit_box.setVisible(offer)
        if not offer:
            return
        rows = QWidget()  # a fresh set of role choices for this spec
        form = QFormLayout(rows)
        form.setContentsMargins(0, 0, 0, 0)
        self.role_boxes = {}
        for role in s.offer_roles:
            box = QComboBox()
            box.addItems(list(s.roles))
            if s.role_guess.get(role) in s.roles:
                box.setCurrentText(s.role_guess[role])
            self.role_boxes[role] = box
            form.addRow(f"Model role {role} reads study role", box)
        self.fit_form.replaceWidget(self.role_rows, rows)
        self.role_rows.deleteLater()
        self.role_rows = rows
        self.positive_label.setVisible(s.offer_collapse)
        self.positive_edit.setVisible(s.offer_collapse)
        if s.offer_collapse:
            self.positive_label.setText(f"Positive of {', '.join(s.pending.labels)}")
            self.positive_edit.setText(self.positive_edit.text() or ", ".join(s.pending.positive))

    def on_fit_clicked(self) -> None:
        if self.state.pending is None:
            return
        # Roles already settled (no choice shown) keep the map of the last try.
        role_map = {**self.state.role_guess, **{role: box.currentText() for role, box in self.role_boxes.items()}}
        positive = tuple(w.strip() for w in self.positive_edit.text().split(",") if w.strip())
        self.state.attach(
            self.state.pending.path, role_map=role_map, positive=positive if self.state.offer_collapse else ()
        )
        self.show_state()

    # -- attach ----------------------------------------------------------------------
    def on_pick_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Model spec", str(self.state.study_dir), "Model spec (model.toml *.toml)"
        )
        if path:
            self.attach(Path(path))

    def attach(self, path: Path) -> None:
        self.state.attach(path)
        self.show_state()

    # -- precompute --------------------------------------------------------------------
    def on_run_clicked(self) -> None:
        if self.state.spec is None or self.state.running:
            return
        worker = create_worker(
            run_precompute,
            self.state.study_dir,
            self.state.spec.path,
            progress=lambda done, total, eta: worker.progress.emit((done, total, eta)),
        )
        worker.started.connect(self.on_precompute_started)
        worker.progress.connect(self.on_precompute_progress)
        worker.result_ready.connect(self.on_precompute_done)
        worker.aborted.connect(self.on_precompute_aborted)
        worker.errored.connect(self.on_precompute_failed)
        self.worker = worker
        self.state.on_started()  # before start(): the buttons flip at once
        self.show_state()
        worker.start()

    def on_cancel_clicked(self) -> None:
        if self.worker is not None and self.state.running:
            self.worker.cancel()
            self.status_label.setText("Cancelling after the current case…")

    def on_precompute_started(self) -> None:
        self.show_state()

    def on_precompute_progress(self, value: tuple) -> None:
        self.state.on_progress(*value)
        self.show_state()

    def on_precompute_done(self, report) -> None:
        self.state.on_finished(report)
        self.show_state()
        self.precompute_finished.emit()

    def on_precompute_aborted(self) -> None:
        self.state.on_aborted()
        self.show_state()
        self.precompute_finished.emit()

    def on_precompute_failed(self, exc: BaseException) -> None:
        self.state.on_failed(exc)
        self.show_state()
        self.precompute_finished.emit()

    # -- preview ---------------------------------------------------------------------------
    def on_show_clicked(self) -> None:
        self.show_case(self.case_box.currentText(), self.role_box.currentText())

    def show_case(self, case_id: str, role: str) -> None:
        self.case_box.setCurrentText(case_id)
        self.role_box.setCurrentText(role)
        path = self.state.preview_request(case_id, role)
        self.prediction_label.setText(f"Loading {case_id}…")
        self.preview_worker = create_worker(
            _load_media, path, _connect={"result_ready": self.on_preview_loaded, "errored": self.on_preview_failed}
        )
        self.preview_worker.start()

    def on_preview_loaded(self, media) -> None:
        self.state.on_preview(media)
        self.show_state()
        self.preview_shown.emit()

    def on_preview_failed(self, exc: BaseException) -> None:
        self.state.on_preview_failed(exc)
        self.prediction_label.setText(self.state.message)
        self.show_state()
        self.preview_shown.emit()
