"""`readerstudy precompute STUDY_DIR [--model SPEC] [--device cpu|cuda]`.

Runs the study's model over every case and stores predictions and CAMs in
the study store.  Ctrl-C stops after the current case (a second Ctrl-C stops
at once); finished cases are committed one by one, so a rerun resumes.
Headless: no Qt is imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from study.aioutput import AIOutput
from study.errors import StudyError
from study.modelfit import ModelFacts, collapse, fit_problems


class StoreSink:
    """Adapter from the precompute sink protocol to the study store.

    ``role_map`` (model role -> study role): CAMs are stored under the study's
    role names, the viewports the reading screen shows them on.
    """

    def __init__(self, store, role_map: dict[str, str] | None = None) -> None:
        self.store = store
        self.role_map = role_map or {}

    def done_case_ids(self, model_id: str) -> set[str]:
        return self.store.ai_output_case_ids(model_id)

    def put(self, output: AIOutput) -> None:
        if self.role_map and output.cams:
            cams = {self.role_map.get(role, role): cam for role, cam in output.cams.items()}
            output = dataclasses.replace(output, cams=cams)
        self.store.put_ai_output(output)

    def record_run(self, report) -> None:
        """Audit a finished run (not a cancelled one) with the cases it could not read.

        Aided sessions wait for AI outputs (``StudyEngine.ai_readiness``); a case
        recorded here as unreadable is settled and no longer waited for.
        """
        if report.cancelled:
            return
        self.store.audit(
            "precompute",
            "ai.precompute",
            {
                "model_id": report.model_id,
                "computed": report.computed,
                "skipped": report.skipped,
                "failed": sorted(case_id for case_id, _ in report.failed),
            },
        )


@dataclass(frozen=True)
class MappedCase:
    """A case as the model sees it: media keyed by the model's role names."""

    case_id: str
    media: dict[str, str]


def model_cases(cases, role_map: dict[str, str], model_roles: tuple[str, ...]) -> list:
    """The study's cases with each model role reading its mapped study role (unchanged without a map)."""
    if not role_map:
        return list(cases)
    return [
        MappedCase(c.case_id, {r: c.media[role_map.get(r, r)] for r in model_roles if role_map.get(r, r) in c.media})
        for c in cases
    ]


def clock_text(seconds: float | None) -> str:
    """`01:23`, `1:02:03`, or `--:--` while the ETA is unknown."""
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


class ProgressBar:
    """`[#####.....] 12/120  10% ETA 01:23` on one line of a terminal (one line per 10% otherwise)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last_decile = -1
        self._last_draw = 0.0

    def __call__(self, done: int, total: int, eta: float | None) -> None:
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {frac:4.0%} ETA {clock_text(eta)}"
        if self.tty:
            now = time.monotonic()
            if done == total or now - self._last_draw > 0.1:
                self._last_draw = now
                self.stream.write("\r" + line + ("\n" if done == total else ""))
                self.stream.flush()
        elif int(frac * 10) != self._last_decile:
            self._last_decile = int(frac * 10)
            self.stream.write(line + "\n")
            self.stream.flush()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study_dir", help="study folder (study.toml, cases.csv)")
    parser.add_argument("--model", help="model.toml to run (default: [model] spec of study.toml)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the model runs (default cpu)")


def _spec_path(study_dir: Path, protocol, model_arg: str | None) -> Path:
    if model_arg:
        return Path(model_arg).resolve()
    if not protocol.model_spec:
        raise StudyError([f"{study_dir / 'study.toml'}: model.spec: no model in the protocol; pass --model SPEC"])
    return (study_dir / protocol.model_spec).resolve()


def prepare(study_dir: Path, model_arg: str | None = None, device: str = "cpu"):
    """(model, cases, sink, spec path) for a precompute run over a study; raises StudyError.

    The CLI and the admin screen both start here, so they check the same things:
    the study's role map and binary collapse ([model] roles / positive) are
    applied, and a model whose roles or head do not fit the study is refused
    (:func:`study.modelfit.fit_problems`).  The store comes back as a StoreSink.
    """
    from inference.load import load_model  # torch is imported only here
    from study.cases import load_cases
    from study.protocol import load_protocol
    from study.store import Store

    protocol = load_protocol(study_dir)
    spec_path = _spec_path(study_dir, protocol, model_arg)
    # Missing media are reported per case by precompute, not as a table error.
    cases = load_cases(study_dir, protocol, check_media=False)
    model = load_model(spec_path, device)
    spec = model.spec
    # The study's role map and collapse belong to the model attached in study.toml.
    attached = bool(protocol.model_spec) and (Path(study_dir) / protocol.model_spec).resolve() == spec_path
    role_map = dict(protocol.model_roles) if attached else {}
    positive = protocol.model_positive if attached else ()
    facts = ModelFacts(str(spec_path), spec.head, spec.labels, spec.roles, spec.positive)
    problems = fit_problems(facts, protocol.task, protocol.hanging.roles, role_map, positive)
    if problems:
        raise StudyError(problems)
    if protocol.task.kind == "binary" and spec.head == "multiclass":
        # The collapse the study chose decides the AI's score (summed probability of the positive classes).
        model.spec = dataclasses.replace(spec, positive=collapse(facts, positive))
    cases = model_cases(cases, role_map, spec.roles)
    return model, cases, StoreSink(Store.open(study_dir), role_map), spec_path


def run(args: argparse.Namespace) -> int:
    from inference.precompute import precompute

    study_dir = Path(args.study_dir).resolve()
    err = sys.stderr
    cancel = threading.Event()

    def on_sigint(_sig, _frame) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        err.write("\nstopping after the current case (Ctrl-C again to stop now)...\n")

    try:
        model, cases, sink, spec_path = prepare(study_dir, args.model, args.device)
    except StudyError as e:
        for line in e.problems:
            err.write(f"error: {line}\n")
        return 2
    # Signal handlers can only be set from the main thread (the demo command may run us elsewhere).
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    try:
        err.write(
            f"model {model.spec.name or spec_path.name} ({model.model_id[:12]}) on {model.device}, {len(cases)} cases\n"
        )
        report = precompute(model, cases, sink, progress=ProgressBar(err), cancel=cancel)
        sink.record_run(report)
    except KeyboardInterrupt:
        err.write("stopped; finished cases are stored, run again to resume\n")
        return 130
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        sink.store.close()
    for case_id, cause in report.failed:
        err.write(f"unreadable case {case_id}: {cause}\n")
    print(
        f"{report.computed} computed, {report.skipped} already stored, {len(report.failed)} failed"
        f" in {report.seconds:.1f} s ({report.cases_per_second:.2f} cases/s)"
        + ("; cancelled, run again to resume" if report.cancelled else "")
    )
    if report.cancelled:
        return 130
    return 1 if report.failed else 0
