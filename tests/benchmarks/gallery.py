"""Specimen gallery benchmark (issue 17): one JSON line.

    python -m tests.benchmarks.gallery [--specimens N] [--switches K]

* ``field_switch_ms``: a digit key in a specimen's gallery to that field painted
  full size with its CAM (the key press, then a synchronous repaint of the
  viewer, so the figure includes the paint), the specimen's fields prefetched
  with it, as they are once a specimen is on screen;
* ``specimen_switch_ms``: Ctrl+1 (answer) to the next specimen drawn with its
  gallery (``case_shown``), the next specimen prefetched meanwhile;
* ``gui_cpu_ms``: CPU time of the GUI thread for the same spans (what the app
  spent, whatever else the machine runs);
* ``loadavg``: 1-min load average at the end (the machine has ``cpus`` cores).

It builds the cytology demo (specimens of 2-5 256x256 RGB PNG fields) in a
temporary folder and stores stand-in AI outputs with per-field scores and a
32x32 CAM per field.  Budget (issue 17): gallery switch p95 <= 50 ms with prefetch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.benchmarks.cytology_queue import PIN, READER, build_study, pct  # noqa: E402


def run(study_dir: Path, switches: int) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from app.main_window import MainWindow
    from app.reading.theme import ensure_application
    from study.engine import StudyEngine

    app = ensure_application()
    engine = StudyEngine.open(study_dir)
    window = MainWindow(engine)
    window.resize(1600, 1000)
    window.show()

    def wait_for(condition, timeout_s: float = 60.0) -> None:
        end = time.perf_counter() + timeout_s
        while not condition():
            if time.perf_counter() > end:
                raise TimeoutError("the triage screen did not settle")
            QTest.qWait(2)

    window.login_state.login(READER, PIN)
    window.on_logged_in(READER)
    window.on_session_chosen(1)
    screen = window.reading
    shown: list[tuple[float, float]] = []
    screen.case_shown.connect(lambda: shown.append((time.perf_counter(), time.thread_time())))
    wait_for(lambda: not screen.state.loading)
    QTest.qWait(50)
    field_ms: list[float] = []
    field_cpu: list[float] = []
    specimen_ms: list[float] = []
    specimen_cpu: list[float] = []
    digits = [getattr(Qt.Key, f"Key_{d}") for d in range(1, 10)]
    while len(field_ms) < switches and screen.state.item is not None:
        gallery = screen.triage.gallery
        assert gallery is not None, "the study's slides are not specimens"
        n = len(gallery.tiles)
        for pos in [*range(2, n + 1), 1]:  # every other tile, then back to the first
            QTest.qWait(10)  # the previous paint is flushed
            t0, c0 = time.perf_counter(), time.thread_time()
            QTest.keyClick(screen, digits[pos - 1])
            screen.centre.repaint()
            field_ms.append((time.perf_counter() - t0) * 1000)
            field_cpu.append((time.thread_time() - c0) * 1000)
            assert gallery.shown == gallery.tiles[pos - 1].field_index
        nxt = screen.next_to_prefetch()
        wait_for(lambda nxt=nxt: nxt is None or screen.prefetcher.get(nxt) is not None)
        QTest.qWait(20)
        before = len(shown)
        t0, c0 = time.perf_counter(), time.thread_time()
        QTest.keyClick(screen, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        if screen.state.item is None:
            break
        wait_for(lambda before=before: len(shown) > before)
        specimen_ms.append((shown[-1][0] - t0) * 1000)
        specimen_cpu.append((shown[-1][1] - c0) * 1000)
    window.close()
    engine.close()
    app.processEvents()
    p95 = pct(field_ms, 95)
    return {
        "benchmark": "gallery",
        "study": "cytology demo (specimens of 2-5 fields, 256x256 RGB PNG, 32x32 CAM per field)",
        "field_switch_ms_p50": pct(field_ms, 50),
        "field_switch_ms_p95": p95,
        "field_switch_n": len(field_ms),
        "field_switch_gui_cpu_ms_p50": pct(field_cpu, 50),
        "field_switch_gui_cpu_ms_p95": pct(field_cpu, 95),
        "specimen_switch_ms_p50": pct(specimen_ms, 50),
        "specimen_switch_ms_p95": pct(specimen_ms, 95),
        "specimen_switch_gui_cpu_ms_p50": pct(specimen_cpu, 50),
        "specimen_switch_gui_cpu_ms_p95": pct(specimen_cpu, 95),
        "specimen_switch_n": len(specimen_ms),
        "loadavg": float(open("/proc/loadavg").read().split()[0]) if Path("/proc/loadavg").exists() else None,
        "cpus": os.cpu_count(),
        "budget_ms": {"field_switch_p95": 50},
        "within_budget": bool(p95 <= 50),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="specimen gallery benchmark")
    parser.add_argument("--specimens", type=int, default=30)
    parser.add_argument("--switches", type=int, default=60)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        study = build_study(Path(tmp), args.specimens, per_field=True)
        print(json.dumps(run(study, args.switches)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
