"""Model attach, precompute and prediction preview of a study (no Qt).

``inference`` is imported only inside the functions that need it, so opening
the admin screens never loads torch; precompute runs in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.aioutput import AIOutput
from study.engine import StudyEngine
from study.errors import StudyError
from study.media import Media, MediaError
from study.wizard import attach_model

ProgressFn = Callable[[int, int, float | None], None]


@dataclass(frozen=True)
class MemberInfo:
    role: str
    weights: str
    sha256_declared: str
    sha256_actual: str

    @property
    def ok(self) -> bool:
        return self.sha256_declared == self.sha256_actual


@dataclass(frozen=True)
class SpecInfo:
    path: Path
    name: str
    architecture: str
    head: str
    labels: tuple[str, ...]
    model_id: str
    members: tuple[MemberInfo, ...]
    cam_method: str

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(m.role for m in self.members)


def describe_spec(spec_path: Path) -> SpecInfo:
    """Read a model.toml and hash its weights; raise StudyError (SpecError) naming file and key."""
    from inference.spec import file_sha256, load_spec  # lazy: inference is the model side

    spec = load_spec(spec_path)
    members = tuple(MemberInfo(m.role, str(m.weights), m.sha256, file_sha256(m.weights)) for m in spec.members)
    return SpecInfo(spec.path, spec.name, spec.architecture, spec.head, spec.labels, spec.model_id, members,
                    spec.cam_method)


def run_precompute(study_dir: Path, spec_path: Path, progress: ProgressFn | None = None,
                   cancel_event: threading.Event | None = None):
    """Worker body: the CLI's precompute over the study's cases into its store; returns the report."""
    from app.commands.precompute import StoreSink, prepare  # torch is imported there, on the worker thread
    from inference.precompute import precompute

    model, cases, store, _ = prepare(study_dir, str(spec_path), "cpu")
    try:
        sink = StoreSink(store)
        report = precompute(model, cases, sink, progress=progress, cancel=cancel_event)
        sink.record_run(report)
        return report
    finally:
        store.close()


def media_path(engine: StudyEngine, case_id: str, role: str) -> str:
    return engine.case(case_id).media.get(role, "")


def strongest_slice(n_frames: int, cams) -> int:
    """The image frame whose CAM has the most mass (the middle frame without a CAM)."""
    if cams is None or len(cams) == 0:
        return n_frames // 2
    mass = np.asarray(cams, dtype=np.float32).reshape(len(cams), -1).sum(axis=1)
    if not mass.max() > 0:
        return n_frames // 2
    k = int(np.argmax(mass))
    return k if len(cams) == n_frames else round(k * (n_frames - 1) / max(len(cams) - 1, 1))


def eta_text(seconds: float | None) -> str:
    from app.commands.precompute import clock_text

    return f"ETA {clock_text(seconds)}"


def prediction_text(out: AIOutput | None) -> str:
    if out is None:
        return "No stored prediction for this case (run precompute)."
    if out.head == "regression":
        band = f" ({out.interval[0]:.1f} to {out.interval[1]:.1f})" if out.interval else ""
        return f"Predicted value {out.value:.2f}{band}"
    probs = ", ".join(f"{lab} {p:.1%}" for lab, p in zip(out.labels, out.probabilities))
    return f"Predicted: {out.predicted}   ({probs})" + (f"   CAM: {out.cam_method}" if out.cam_method else "")


class ModelState:
    """Bound to the model screen: the attached spec, the precompute run, unreadable cases, preview."""

    def __init__(self, engine: StudyEngine) -> None:
        self.engine = engine
        self.study_dir = engine.study_dir
        self.spec: SpecInfo | None = None
        self.problems: list[str] = []
        self.progress: tuple[int, int, float | None] = (0, 0, None)
        self.eta = ""
        self.running = False
        self.unreadable: list[tuple[str, str]] = []
        self.message = ""
        self.preview_case: str = ""
        self.preview: tuple[Media, AIOutput | None] | None = None
        spec = engine.protocol.model_spec
        if spec:
            self.attach((self.study_dir / spec).resolve(), record=False)

    @property
    def case_ids(self) -> list[str]:
        return [c.case_id for c in self.engine.cases]

    @property
    def roles(self) -> tuple[str, ...]:
        return self.engine.protocol.hanging.roles

    def attach(self, spec_path: Path, record: bool = True) -> bool:
        """Read the spec (and record it in study.toml); problems are kept for display."""
        try:
            info = describe_spec(Path(spec_path))
            missing = [r for r in info.roles if r not in self.roles]
            if missing:
                raise StudyError([f"{spec_path}: the model reads role(s) {', '.join(missing)}; the study has "
                                  f"{', '.join(self.roles)}"])
            if record:
                attach_model(self.study_dir, spec_path)
        except StudyError as err:
            self.spec, self.problems = None, list(err.problems)
            return False
        self.spec, self.problems = info, []
        self.message = self.stored_text()
        return True

    def stored_count(self) -> int:
        return 0 if self.spec is None else len(self.engine.store.ai_output_case_ids(self.spec.model_id))

    def stored_text(self) -> str:
        return f"{self.stored_count()} of {len(self.engine.cases)} cases have stored predictions for this model."

    # -- precompute run, driven by the worker's signals ---------------------
    def on_started(self) -> None:
        self.running, self.unreadable, self.progress = True, [], (0, 0, None)
        self.message = "Loading the model…"

    def on_progress(self, done: int, total: int, eta: float | None) -> None:
        self.progress, self.eta = (done, total, eta), eta_text(eta)
        self.message = f"Computing: {done} of {total} cases."

    def on_finished(self, report) -> None:
        self.running, self.eta = False, ""
        self.unreadable = list(report.failed)
        self.message = (f"{report.computed} computed, {report.skipped} already stored, {len(report.failed)} "
                        f"unreadable, in {report.seconds:.1f} s.  " + self.stored_text())

    def on_aborted(self) -> None:
        self.running, self.eta = False, ""
        self.message = "Cancelled; finished cases are stored, run again to resume.  " + self.stored_text()

    def on_failed(self, exc: BaseException) -> None:
        self.running, self.eta = False, ""
        lines = exc.problems if isinstance(exc, StudyError) else [f"{type(exc).__name__}: {exc}"]
        self.message = "Precompute failed: " + "; ".join(lines)

    def preview_request(self, case_id: str, role: str) -> str:
        """The media path the worker loads (``study.media.load``) for a preview."""
        self.preview_case, self.preview = case_id, None
        return media_path(self.engine, case_id, role)

    def on_preview(self, media: Media) -> None:
        # One small row read on the GUI thread: the store's engine stays on this thread.
        self.preview = (media, self.engine.store.ai_output(self.preview_case))

    def on_preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self.message = str(exc) if isinstance(exc, (MediaError, StudyError)) else f"{type(exc).__name__}: {exc}"
