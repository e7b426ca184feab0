"""Time from `readerstudy demo --build DIR` to the screens: ``python -m tests.benchmarks.demo [--small] [--until-ai]``.

Runs what ``make demo`` runs after the install, in this process (offscreen): the
launcher, which starts the headless build in a child process and opens the MRI
study when it is ready.  Prints one JSON line: seconds to the launcher drawn, to
the MRI study window drawn (budget DESIGN.md: <= 60 s), and with ``--until-ai``
to the MRI study's AI outputs all stored (background precompute).  The baseline
measured in the same run is the bare headless MRI build (``build_mri`` in one
process), so the ratio shows what the parallel build and the early opening buy.
A benchmark on a fresh folder each run, not a test.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

BUDGET = 60.0


def main() -> None:
    small, until_ai = "--small" in sys.argv, "--until-ai" in sys.argv
    t0 = time.perf_counter()
    from PySide6.QtCore import QEventLoop, QTimer

    from app.commands.launch import LaunchFlow
    from app.launcher import LauncherWidget, RecentStudies
    from app.reading.theme import ensure_application

    _app = ensure_application()  # kept alive for the run
    result: dict[str, float | bool | str] = {"benchmark": "demo", "small": small}
    with tempfile.TemporaryDirectory() as tmp:
        launcher = LauncherWidget(RecentStudies(Path(tmp) / "recent.json"), demo_dir=Path(tmp) / "demo")
        flow = LaunchFlow(launcher)
        launcher.show()
        launcher.start_demo(["--small"] if small else [])
        loop = QEventLoop()
        QTimer.singleShot(0, loop.quit)
        loop.exec()
        result["seconds_to_launcher"] = round(time.perf_counter() - t0, 2)

        def wait(done, limit_s: float) -> bool:
            deadline = time.perf_counter() + limit_s
            while not done() and time.perf_counter() < deadline:
                QTimer.singleShot(100, loop.quit)
                loop.exec()
            return done()

        opened = wait(lambda: flow.window is not None and flow.window.isVisible(), 900)
        result["seconds_to_mri_study"] = round(time.perf_counter() - t0, 2) if opened else "not opened in 900 s"
        if until_ai and opened:
            engine = flow.window.engine
            ready = wait(lambda: engine.ai_readiness().ready, 3600)
            result["seconds_to_mri_ai_outputs"] = round(time.perf_counter() - t0, 2) if ready else "not in 1 h"
        launcher.demo_setup.stop()
        if flow.window is not None:
            flow.window.engine.close()
            flow.window.close()
        from study.demo import STUDIES
        from study.demo.mri import build_mri

        t1 = time.perf_counter()
        import study.demo.mri as mri

        serial = mri._map
        mri._map = lambda fn, jobs, workers=None: serial(fn, jobs, 1)  # the plain one-process build
        try:
            build_mri(Path(tmp) / "baseline", n=STUDIES["mri"] if small else None)
        finally:
            mri._map = serial
        baseline = time.perf_counter() - t1
    result["baseline_serial_mri_build_seconds"] = round(baseline, 2)
    if isinstance(result["seconds_to_mri_study"], float):
        result["ratio_to_baseline"] = round(result["seconds_to_mri_study"] / baseline, 2)
        result["within_budget"] = result["seconds_to_mri_study"] <= BUDGET
    result["budget_seconds"] = BUDGET
    print(json.dumps(result))


if __name__ == "__main__":
    main()
