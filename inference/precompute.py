"""Run a model over every case of a study and hand each ``AIOutput`` to a sink.

The sink is injected (the study store in the app and CLI, a dict in tests), so
inference never imports the store or a database library.  Resumable: cases
the sink already holds for this model are skipped.  An unreadable case is
reported and skipped; the run goes on.  A specimen (a case whose role lists
several fields, ``study.specimen``) is scored field by field and aggregated
(``inference.specimen``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from inference.load import LoadedModel, load_model
from inference.predict import predict
from inference.specimen import predict_specimen
from inference.wsi_precompute import SlideCancelled
from study.aioutput import AIOutput
from study.media.types import Media, MediaError
from study.specimen import field_paths

ProgressFn = Callable[[int, int, float | None], None]  # (done, total, eta_seconds)


class CaseLike(Protocol):
    case_id: str
    media: Mapping[str, str]  # role -> path


class Sink(Protocol):
    def done_case_ids(self, model_id: str) -> set[str]: ...

    def put(self, output: AIOutput) -> None: ...


@dataclass
class PrecomputeReport:
    model_id: str
    total: int  # cases given
    computed: int = 0  # new outputs stored in this run
    skipped: int = 0  # already in the sink (resume)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (case_id, one-line cause)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def cases_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0


class MemorySink:
    """A dict-backed sink (tests, benchmarks, dry runs)."""

    def __init__(self) -> None:
        self.outputs: dict[tuple[str, str], AIOutput] = {}

    def done_case_ids(self, model_id: str) -> set[str]:
        return {case for (model, case) in self.outputs if model == model_id}

    def put(self, output: AIOutput) -> None:
        self.outputs[(output.model_id, output.case_id)] = output


def _load_case(
    case: CaseLike, roles: tuple[str, ...], loader: Callable[[str], Media]
) -> dict[str, Media] | dict[str, list[Media]]:
    """role -> media; for a specimen (a role listing several fields, study.specimen)
    role -> the fields' media in stored order."""
    media: dict = {}
    fields: dict[str, list[Media]] = {}
    for role in roles:
        path = case.media.get(role)
        if not path:
            raise MediaError(case.case_id, f"no {role} media in the case table")
        paths = field_paths(path)
        if len(paths) > 1:
            fields[role] = [loader(p) for p in paths]
        else:
            media[role] = loader(paths[0])
    if fields:
        fields.update({role: [m] for role, m in media.items()})
        return fields
    return media


def _predict_case(
    model: LoadedModel, media: dict[str, Media], case_id: str, cancel: threading.Event | None
) -> AIOutput:
    """``predict`` on the case; a whole-slide role is scored tile by tile instead (``inference.wsi_precompute``)."""
    slides = [role for role, m in media.items() if m.kind == "wsi"]
    if not slides:
        return predict(model, media, case_id=case_id)
    if len(media) != 1:
        raise MediaError(case_id, "a model reading a whole-slide image must read that one role only")
    from inference.wsi_precompute import score_slide, slide_output  # noqa: PLC0415 - only for slides

    role = slides[0]
    scores = score_slide(model, media[role].source, role=role, cancel=cancel)
    return slide_output(model, scores, case_id, role)


def _default_loader() -> Callable[[str], Media]:
    from study.media import load  # the media layer is only needed when cases are actually read

    return load


def precompute(
    spec_path: str | Path | LoadedModel,
    cases: Iterable[CaseLike],
    sink: Sink,
    *,
    device: str = "cpu",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    load_media: Callable[[str], Media] | None = None,
) -> PrecomputeReport:
    """Predict and CAM every case not yet in ``sink``; see the module doc.

    ``progress(done, total, eta_seconds)`` is called after every case (done and
    total count the cases still to do when the run started).  ``cancel`` is
    checked between cases, so a cancelled run stops cleanly and a rerun resumes.
    """
    model = spec_path if isinstance(spec_path, LoadedModel) else load_model(spec_path, device)
    loader = load_media or _default_loader()
    cases = list(cases)
    report = PrecomputeReport(model.model_id, len(cases))
    done_ids = sink.done_case_ids(model.model_id)
    todo = [c for c in cases if c.case_id not in done_ids]
    report.skipped = len(cases) - len(todo)
    roles = model.spec.roles
    start = time.perf_counter()
    if progress:
        progress(0, len(todo), None)
    # Read the next case's files while the model runs on this one (DICOM
    # decoding and video demuxing release the GIL for much of their work).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="precompute-read") as pool:
        pending: Future | None = pool.submit(_load_case, todo[0], roles, loader) if todo else None
        for i, case in enumerate(todo):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            assert pending is not None
            current = pending
            pending = pool.submit(_load_case, todo[i + 1], roles, loader) if i + 1 < len(todo) else None
            try:
                media = current.result()
                if any(isinstance(m, list) for m in media.values()):
                    output = predict_specimen(model, media, case_id=case.case_id)
                else:
                    output = _predict_case(model, media, case.case_id, cancel)
            except SlideCancelled:
                report.cancelled = True
                break
            except MediaError as err:
                report.failed.append((case.case_id, str(err)))
            except (ValueError, RuntimeError) as err:  # e.g. a frame too small for the network
                report.failed.append((case.case_id, f"{type(err).__name__}: {str(err).splitlines()[0]}"))
            else:
                sink.put(output)
                report.computed += 1
            if progress:
                done = i + 1
                elapsed = time.perf_counter() - start
                progress(done, len(todo), elapsed / done * (len(todo) - done))
        if pending is not None:
            pending.cancel()
    report.seconds = time.perf_counter() - start
    return report
