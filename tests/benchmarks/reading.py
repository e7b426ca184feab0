"""Reading-screen benchmark: one JSON line.

    python -m tests.benchmarks.reading [--study DIR] [--readers N]

* ``case_switch_ms``: from the Enter key to the next case fully drawn (the
  reading screen repainted synchronously with the new images), with the next
  case prefetched as it is while a reader looks at a case;
* ``submit_commit_ms``: ``ReadingSession.submit`` alone, i.e. until the read's
  row is committed in the SQLite store.

Both sessions are read: unaided, then (washout overridden) aided with the AI
panel and the CAM overlay on, which adds the overlay maps to each switch.
Without ``--study`` it builds the small MRI demo study (12 cases, three DICOM
series per case) in a temporary folder and stores stand-in AI outputs with
half-resolution CAMs for the aided session.  Budgets (DESIGN.md): case switch
p95 <= 50 ms, submit p95 <= 10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PIN = "1234"


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def build_study(root: Path) -> Path:
    from study.aioutput import AIOutput
    from study.demo import DEFAULT_SEED, STUDIES, builder
    from study.engine import StudyEngine
    from study.media import load
    from study.store import Store

    study = builder("mri")(root / "mri", DEFAULT_SEED, STUDIES["mri"])
    store = Store.open(study)
    try:
        for i in range(6):
            store.add_reader(f"bench{i}", "resident", PIN, actor="bench")
    finally:
        store.close()
    engine = StudyEngine.open(study)
    rng = np.random.default_rng(0)
    try:
        for case in engine.cases:
            cams = {}
            for role, path in case.media.items():
                n, h, w = load(path).frames.shape[:3]
                cams[role] = rng.random((n, h // 2, w // 2)).astype(np.float16)
            p = float(rng.random())
            engine.store.put_ai_output(
                AIOutput(
                    case.case_id,
                    "bench-placeholder",
                    "binary",
                    ("leiomyoma", "sarcoma"),
                    (1 - p, p),
                    predicted="sarcoma" if p >= 0.5 else "leiomyoma",
                    score=p,
                    cams=cams,
                )
            )
    finally:
        engine.close()
    return study


def run(study_dir: Path, readers: list[str], label: str = "MRI demo, small build") -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from app.main_window import MainWindow
    from app.reading.theme import ensure_application
    from study.engine import StudyEngine

    app = ensure_application()
    engine = StudyEngine.open(study_dir)
    models = {out.model_id for out in engine.ai_outputs().values()}
    ai_source = ", ".join(sorted(m[:12] for m in models)) or "none"
    window = MainWindow(engine)
    window.resize(1600, 1000)
    window.show()
    switch_by_mode: dict[int, list[float]] = {1: [], 2: []}
    submit_ms: list[float] = []
    shape = ""

    def wait_for(condition, timeout_s: float = 30.0) -> None:
        end = time.perf_counter() + timeout_s
        while not condition():
            if time.perf_counter() > end:
                raise TimeoutError("the reading screen did not settle")
            QTest.qWait(5)

    sessions = [(reader, index) for index in (1, 2) for reader in readers]
    for reader, index in sessions:
        if index == 2:
            engine.override_washout(reader, 2, "benchmark", actor="bench")
        switch_ms = switch_by_mode[index]
        window.login_state.login(reader, PIN)
        window.on_logged_in(reader)
        window.on_session_chosen(index)
        screen = window.reading
        session = window.session
        real_submit = session.submit

        def timed_submit(read, *a, _submit=real_submit, **kw):
            t = time.perf_counter()
            result = _submit(read, *a, **kw)
            submit_ms.append((time.perf_counter() - t) * 1000)
            return result

        session.submit = timed_submit
        wait_for(lambda: not screen.state.loading)  # noqa: B023 - called at once, in this iteration
        if index == 2 and screen.state.has_cam and not screen.state.cam_visible:
            QTest.keyClick(screen, Qt.Key.Key_C)  # CAM on; the preference carries over
        if not shape:
            shape = ", ".join(
                f"{vp.media.n_frames}x{vp.media.frames.shape[1]}x{vp.media.frames.shape[2]}"
                for vp in screen.viewer.viewports()
            )
        while screen.state.item is not None:
            nxt = screen.state.peek_next()
            # A reader looks at a case for seconds: the prefetch of the next one has finished.
            wait_for(lambda: nxt is None or screen.prefetcher.get(nxt) is not None)  # noqa: B023 - called at once
            QTest.keyClick(screen, Qt.Key.Key_2)
            QTest.keyClick(screen, Qt.Key.Key_Up)
            t0 = time.perf_counter()
            QTest.keyClick(screen, Qt.Key.Key_Return)
            if screen.state.item is None:
                break
            wait_for(lambda: not screen.state.loading)  # noqa: B023 - called at once, in this iteration
            screen.repaint()  # synchronous paint of the whole screen: the new case is on it
            switch_ms.append((time.perf_counter() - t0) * 1000)
        window.summary.back_requested.emit()
        window.sessions.logged_out.emit()
    window.close()
    engine.close()
    app.processEvents()
    return {
        "benchmark": "reading",
        "study": f"{label} ({len(engine.cases)} cases; per case {shape}; AI outputs: {ai_source})",
        "readers": len(readers),
        "case_switch_ms_p50": _pct(switch_by_mode[1], 50),
        "case_switch_ms_p95": _pct(switch_by_mode[1], 95),
        "case_switch_n": len(switch_by_mode[1]),
        "aided_cam_switch_ms_p50": _pct(switch_by_mode[2], 50),
        "aided_cam_switch_ms_p95": _pct(switch_by_mode[2], 95),
        "aided_cam_switch_n": len(switch_by_mode[2]),
        "submit_commit_ms_p50": _pct(submit_ms, 50),
        "submit_commit_ms_p95": _pct(submit_ms, 95),
        "submit_n": len(submit_ms),
        "budget_ms": {"case_switch_p95": 50, "submit_p95": 10},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reading-screen benchmark")
    parser.add_argument("--study", type=Path, default=None, help="an MRI study with readers bench0.. (PIN 1234)")
    parser.add_argument("--readers", type=int, default=6)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        study = args.study or build_study(Path(tmp))
        label = f"study {args.study}" if args.study else "MRI demo, small build"
        result = run(study, [f"bench{i}" for i in range(args.readers)], label)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
