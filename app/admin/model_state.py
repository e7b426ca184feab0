"""Model attach, precompute and prediction preview of a study (no Qt).

``inference`` is imported only inside the functions that need it, so opening
the admin screens never loads torch; precompute runs in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study.aioutput import AIOutput
from study.engine import StudyEngine
from study.errors import StudyError
from study.media import Media, MediaError
from study.modelfit import ModelFacts, fit_problems, role_map_problems, suggest_role_map, task_problems
from study.protocol import load_protocol
from study.specimen import field_paths
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
    positive: tuple[str, ...] = ()
    threshold: float | None = None
    threshold_rule: str = ""

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(m.role for m in self.members)


def describe_spec(spec_path: Path) -> SpecInfo:
    """Read a model.toml and hash its weights; raise StudyError (SpecError) naming file and key."""
    from inference.spec import file_sha256, load_spec  # lazy: inference is the model side

    spec = load_spec(spec_path)
    members = tuple(MemberInfo(m.role, str(m.weights), m.sha256, file_sha256(m.weights)) for m in spec.members)
    return SpecInfo(
        spec.path,
        spec.name,
        spec.architecture,
        spec.head,
        spec.labels,
        spec.model_id,
        members,
        spec.cam_method,
        spec.positive,
        spec.threshold,
        spec.threshold_rule,
    )


def operating_point_text(info: SpecInfo, positive: tuple[str, ...] = ()) -> str:
    """The model's decision cut and how it was chosen, e.g. "sarcoma when its score ≥ 0.316 (32 %) · chosen by youden".

    ``positive``: the study's binary collapse of a multiclass model (else the spec's own positive labels)."""
    if info.head not in ("binary", "multiclass"):
        return "none: the model gives a value, not a call" if info.head == "regression" else "none"
    if info.threshold is None:
        return "none stored: the most likely label (argmax)" if info.head == "multiclass" else "none stored: 0.5"
    called = info.labels[1:2] if info.head == "binary" else (positive or info.positive)
    who = " or ".join(called) or "positive"
    score = "its probability" if len(called) <= 1 else "their summed probability"
    rule = f"  ·  chosen by {info.threshold_rule}" if info.threshold_rule else "  ·  rule not recorded"
    return f"{who} when {score} ≥ {info.threshold:g} ({100 * info.threshold:.0f} %){rule}"


def run_precompute(
    study_dir: Path, spec_path: Path, progress: ProgressFn | None = None, cancel_event: threading.Event | None = None
):
    """Worker body: the CLI's precompute over the study's cases into its store; returns the report."""
    from app.commands.precompute import prepare  # torch is imported there, on the worker thread
    from inference.precompute import precompute

    model, cases, sink, _ = prepare(study_dir, None, "cpu")  # the spec attached in study.toml, with its role map
    try:
        report = precompute(model, cases, sink, progress=progress, cancel=cancel_event)
        sink.record_run(report)
        return report
    finally:
        sink.store.close()


def media_path(engine: StudyEngine, case_id: str, role: str) -> str:
    """The file shown for a case's role; for a specimen its first field (whose CAM is the role's)."""
    path = engine.case(case_id).media.get(role, "")
    return field_paths(path)[0] if path else ""


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
    cut = f", cut-off {out.threshold:g}" if out.threshold is not None and out.decision is not None else ""
    return f"Predicted: {out.predicted}   ({probs}{cut})" + (f"   CAM: {out.cam_method}" if out.cam_method else "")


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
        self.message_ok: bool | None = None  # True: success, False: a problem, None: information
        self.preview_case: str = ""
        self.preview: tuple[Media, AIOutput | None] | None = None
        self.pending: SpecInfo | None = None  # a spec that does not fit yet (see attach)
        self.role_guess: dict[str, str] = {}
        self.offer_roles: tuple[str, ...] = ()
        self.offer_collapse = False
        self.role_map: dict[str, str] = {}
        self.positive: tuple[str, ...] = ()
        spec = load_protocol(self.study_dir).model_spec  # study.toml as attach last wrote it
        if spec:
            self.attach((self.study_dir / spec).resolve(), record=False)

    @property
    def case_ids(self) -> list[str]:
        return [c.case_id for c in self.engine.cases]

    @property
    def roles(self) -> tuple[str, ...]:
        return self.engine.protocol.hanging.roles

    def attach(
        self,
        spec_path: Path,
        record: bool = True,
        role_map: dict[str, str] | None = None,
        positive: tuple[str, ...] | None = None,
    ) -> bool:
        """Read the spec, check it fits the study (roles, head vs task) and record it in study.toml.

        ``role_map`` (model role -> study role) and ``positive`` (the binary collapse) are the
        researcher's choices; ``None`` takes those already in study.toml when re-reading it
        (``record=False``), else none.  A spec that does not fit is kept in ``pending`` with a
        suggested map, and ``offer_roles`` / ``offer_collapse`` say what the screen may ask for.
        """
        protocol = load_protocol(self.study_dir)
        if role_map is None:
            role_map = {} if record else dict(protocol.model_roles)
        if positive is None:
            positive = () if record else protocol.model_positive
        self.pending, self.offer_roles, self.offer_collapse = None, (), False
        try:
            info = describe_spec(Path(spec_path))
        except StudyError as err:
            self.spec, self.problems = None, list(err.problems)
            return False
        facts = ModelFacts(str(spec_path), info.head, info.labels, info.roles, info.positive)
        problems = fit_problems(facts, protocol.task, self.roles, role_map, positive)
        if problems:
            self.spec, self.problems, self.pending = None, problems, info
            self.role_guess = {**suggest_role_map(info.roles, self.roles), **role_map}
            # Only a binary collapse mends a head that differs from the task; other heads are refused.
            self.offer_collapse = protocol.task.kind == "binary" and info.head == "multiclass"
            refused = bool(task_problems(facts, protocol.task, positive)) and not self.offer_collapse
            self.offer_roles = info.roles if role_map_problems(facts, self.roles, role_map) and not refused else ()
            return False
        if record:
            try:
                attach_model(self.study_dir, spec_path, role_map, positive)
            except StudyError as err:
                self.spec, self.problems = None, list(err.problems)
                return False
        self.spec, self.problems, self.role_map, self.positive = info, [], dict(role_map), tuple(positive)
        self.message, self.message_ok = self.stored_text(), None
        self.progress = self.stored_progress()
        return True

    def stored_count(self) -> int:
        return 0 if self.spec is None else len(self.engine.store.ai_output_case_ids(self.spec.model_id))

    def stored_progress(self) -> tuple[int, int, None]:
        """(cases with a stored prediction, cases of the study, no ETA): the bar between runs."""
        return self.stored_count(), len(self.engine.cases), None

    def stored_text(self) -> str:
        return f"{self.stored_count()} of {len(self.engine.cases)} cases have stored predictions for this model."

    # -- precompute run, driven by the worker's signals ---------------------
    def on_started(self) -> None:
        self.running, self.unreadable, self.progress = True, [], self.stored_progress()
        self.message, self.message_ok = "Loading the model…", None

    def on_progress(self, done: int, total: int, eta: float | None) -> None:
        """``done`` of the ``total`` cases this run computes; the bar counts every case of the study."""
        n = len(self.engine.cases)
        self.progress, self.eta = (n - total + done, n, eta), eta_text(eta)
        self.message, self.message_ok = f"Computing: {done} of {total} cases not yet stored.", None

    def on_finished(self, report) -> None:
        self.running, self.eta = False, ""
        self.progress = self.stored_progress()
        self.unreadable = list(report.failed)
        self.message_ok = not report.failed and not report.cancelled
        self.message = (
            f"{report.computed} computed, {report.skipped} already stored, {len(report.failed)} "
            f"unreadable, in {report.seconds:.1f} s.  " + self.stored_text()
        )

    def on_aborted(self) -> None:
        self.running, self.eta, self.message_ok = False, "", None
        self.progress = self.stored_progress()
        self.message = "Cancelled; finished cases are stored, run again to resume.  " + self.stored_text()

    def on_failed(self, exc: BaseException) -> None:
        self.running, self.eta = False, ""
        lines = exc.problems if isinstance(exc, StudyError) else [f"{type(exc).__name__}: {exc}"]
        self.message, self.message_ok = "Precompute failed: " + "; ".join(lines), False

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
        self.message_ok = False
