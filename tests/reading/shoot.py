"""Screenshots of every reader screen on the demo studies, to look at.

    xvfb-run -a python -m tests.reading.shoot DEMO_ROOT screenshots/reading [--placeholder-ai]

DEMO_ROOT is a folder built by ``readerstudy demo --build`` (use a scratch
copy: this script reads cases, and may override the washout and store AI
outputs).  ``--placeholder-ai`` stores, for studies without AI outputs, a
stand-in output whose CAM is a blob on each lesion box of ``lesions.csv`` (model
id "screenshot-placeholder"), so overlay alignment can be checked before the
demo models exist.  Not a test: it only writes PNGs.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.main_window import MainWindow
from app.reading.theme import ensure_application
from study.aioutput import AIOutput
from study.engine import StudyEngine
from study.media import load

PIN = "1234"
SIZE = (1600, 1000)


def wait_for(condition, timeout_ms: int = 15000) -> None:
    waited = 0
    while not condition():
        if waited > timeout_ms:
            raise TimeoutError("screen did not settle")
        QTest.qWait(20)
        waited += 20


def placeholder_ai(study_dir: Path) -> None:
    engine = StudyEngine.open(study_dir)
    store = engine.store
    if store.ai_outputs():
        engine.close()
        return
    boxes: dict[tuple[str, str], list[tuple[int, int, int, int, int]]] = {}
    lesions = study_dir / "lesions.csv"
    if lesions.is_file():
        with open(lesions, newline="") as f:
            for row in csv.DictReader(f):
                boxes.setdefault((row["case_id"], row["role"]), []).append(
                    (int(row.get("frame") or 0), int(row["row0"]), int(row["col0"]), int(row["row1"]), int(row["col1"]))
                )
    task = engine.protocol.task
    rng = np.random.default_rng(0)
    for case in engine.cases:
        cams = {}
        for role, path in case.media.items():
            media = load(path)
            n, h, w = media.frames.shape[:3]
            cam = np.zeros((n, h, w), np.float32)
            yy, xx = np.mgrid[0:h, 0:w]
            for frame, r0, c0, r1, c1 in boxes.get((case.case_id, role), []):
                cy, cx = (r0 + r1) / 2, (c0 + c1) / 2
                sy, sx = max(3.0, (r1 - r0) / 2), max(3.0, (c1 - c0) / 2)
                blob = np.exp(-(((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2) / 2)
                frames = range(n) if n == 1 or media.kind == "video" else [min(frame, n - 1)]
                for k in frames:
                    cam[k] = np.maximum(cam[k], blob)
            cams[role] = cam[:, ::2, ::2].astype(np.float16)
        if task.kind == "binary":
            p = float(rng.uniform(0.05, 0.95))
            out = AIOutput(
                case.case_id,
                "screenshot-placeholder",
                "binary",
                task.labels,
                (1 - p, p),
                predicted=task.labels[int(p >= 0.5)],
                score=p,
                cams=cams,
            )
        elif task.kind == "multiclass":
            # Stand-in scores follow the lesion boxes so the queue's top slides show a CAM.
            has = any(c == case.case_id for c, _ in boxes)
            probs = rng.dirichlet([0.5, 1, 3] if has else [3, 1, 0.5])
            out = AIOutput(
                case.case_id,
                "screenshot-placeholder",
                "multiclass",
                task.labels,
                tuple(map(float, probs)),
                predicted=task.labels[int(np.argmax(probs))],
                score=float(probs[-1]),
                cams=cams,
            )
        elif task.kind == "grade_distribution":
            probs = rng.dirichlet(np.ones(len(task.grades)) * 2)
            out = AIOutput(
                case.case_id,
                "screenshot-placeholder",
                "grade_distribution",
                task.grades,
                tuple(map(float, probs)),
                predicted=task.grades[int(np.argmax(probs))],
                score=0.0,
                cams=cams,
            )
        else:
            v = float(rng.uniform(9, 15))
            out = AIOutput(
                case.case_id,
                "screenshot-placeholder",
                "regression",
                value=v,
                interval=(v - 1.4, v + 1.4),
                predicted=f"{v:.1f}",
                score=v,
                cams=cams,
            )
        store.put_ai_output(out)
    engine.close()


class Shooter:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)

    def grab(self, widget, name: str) -> None:
        QTest.qWait(60)  # let layouts and pyqtgraph settle for the grab
        path = self.out_dir / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    def window(self, study_dir: Path) -> MainWindow:
        window = MainWindow(StudyEngine.open(study_dir))
        window.resize(*SIZE)
        window.show()
        return window

    def login(self, window: MainWindow, reader: str) -> None:
        QTest.keyClicks(window.login.code_field, reader)
        QTest.keyClicks(window.login.pin_field, PIN)
        QTest.keyClick(window.login.pin_field, Qt.Key.Key_Return)

    def start(self, window: MainWindow, index: int):
        window.on_session_chosen(index)
        screen = window.reading
        wait_for(lambda: screen.state.item is None or not screen.state.loading)
        return screen

    def answer_all(self, window: MainWindow, keys) -> None:
        screen = window.reading
        while screen.state.item is not None:
            wait_for(lambda: screen.state.item is None or not screen.state.loading)
            for key in keys:
                QTest.keyClick(screen, key)
            QTest.keyClick(screen, Qt.Key.Key_Return)


def _truths(d: Path) -> dict[str, str]:
    with open(d / "cases.csv", newline="") as f:
        return {row["case_id"]: row["truth"] for row in csv.DictReader(f)}


def _largest_lesion_frames(d: Path) -> dict[tuple[str, str], int]:
    """(case, role) -> the frame where lesions.csv gives that series the largest mass area."""
    best: dict[tuple[str, str], tuple[int, int]] = {}
    with open(d / "lesions.csv", newline="") as f:
        for row in csv.DictReader(f):
            key, area = (row["case_id"], row["role"]), int(row["area_px"])
            if area > best.get(key, (-1, 0))[0]:
                best[key] = (area, int(row["frame"]))
    return {key: frame for key, (_, frame) in best.items()}


def shoot_mri(s: Shooter, d: Path) -> None:
    w = s.window(d)
    s.grab(w, "mri-1-login")
    s.login(w, "spec1")
    s.grab(w, "mri-2-sessions")
    screen = s.start(w, 1)
    s.grab(w, "mri-3-unaided-new-case")  # no likelihood set: no slider thumb
    for key in (Qt.Key.Key_2, Qt.Key.Key_Up, Qt.Key.Key_Up, Qt.Key.Key_Up):
        QTest.keyClick(screen, key)
    s.grab(w, "mri-3-unaided")
    QTest.keyClick(screen, Qt.Key.Key_F1)  # the key card, over the reading screen
    s.grab(screen.keys_dialog, "mri-3-keys-card")
    screen.keys_dialog.close()
    QTest.keyClick(screen, Qt.Key.Key_P)
    s.grab(w, "mri-4-paused")
    QTest.keyClick(screen, Qt.Key.Key_P)
    s.answer_all(w, (Qt.Key.Key_1, Qt.Key.Key_Down))
    s.grab(w, "mri-5-summary")
    w.summary.back_requested.emit()
    s.grab(w, "mri-6-washout")
    w.engine.override_washout("spec1", 2, "screenshots", actor="shoot")
    w.sessions.refresh()
    screen = s.start(w, 2)
    # The CAM is for "sarcoma": shown on the first sarcoma of the reader's order (the cases before it are
    # answered), each viewport at the slice where that series shows the most mass (lesions.csv).
    truth, frames = _truths(d), _largest_lesion_frames(d)
    while screen.state.item is not None and truth.get(screen.state.item.case_id) != "1":
        for key in (Qt.Key.Key_1, Qt.Key.Key_Down, Qt.Key.Key_Return):
            QTest.keyClick(screen, key)
        wait_for(lambda: screen.state.item is None or not screen.state.loading)
    case_id = screen.state.item.case_id
    QTest.keyClick(screen, Qt.Key.Key_C)
    for role, vp in zip(screen.viewer.roles, screen.viewer.viewports()):
        vp.set_slice(frames.get((case_id, role), vp.n_frames // 2))
    QTest.keyClick(screen, Qt.Key.Key_2)
    print(f"aided MRI screenshot: case {case_id} (sarcoma)")
    s.grab(w, "mri-7-aided-cam")
    QTest.keyClick(screen, Qt.Key.Key_1)  # "leiomyoma" at 80 % likelihood of sarcoma: warned
    for _ in range(6):
        QTest.keyClick(screen, Qt.Key.Key_Up)
    QTest.keyClick(screen, Qt.Key.Key_Return)
    s.grab(w, "mri-8-aided-contradiction")
    QTest.keyClick(screen, Qt.Key.Key_F1)
    s.grab(screen.keys_dialog, "mri-9-aided-keys-card")
    screen.keys_dialog.close()
    w.close()
    w.engine.close()


def shoot_simple(s: Shooter, d: Path, name: str, keys, text: str = "") -> None:
    w = s.window(d)
    s.login(w, "res1")
    s.grab(w, f"{name}-1-sessions")
    screen = s.start(w, 1)
    if text:
        QTest.keyClicks(screen.answer_panel.field, text)
    for key in keys:
        QTest.keyClick(screen, key)
    if screen.state.has_cam:
        QTest.keyClick(screen, Qt.Key.Key_C)
    s.grab(w, f"{name}-2-reading")
    w.close()
    w.engine.close()


def shoot_triage(s: Shooter, d: Path) -> None:
    w = s.window(d)
    s.login(w, "res1")
    screen = s.start(w, 1)
    s.grab(w, "cytology-1-triage")
    QTest.keyClick(screen, Qt.Key.Key_3)
    QTest.keyClick(screen, Qt.Key.Key_3)
    wait_for(lambda: not screen.state.loading)
    screen.filter_box.setCurrentIndex(1)
    s.grab(w, "cytology-2-triage-filtered")
    w.close()
    w.engine.close()


def shoot_launcher(s: Shooter, root: Path) -> None:
    from app.launcher import LauncherWidget, RecentStudies

    recent = RecentStudies(s.out_dir / "recent.json")
    for name in ("conjunctiva", "motility", "cytology", "mri"):
        if (root / name / "study.toml").is_file():
            recent.add(root / name)
    launcher = LauncherWidget(recent, demo_dir=root)
    launcher.resize(1100, 720)
    launcher.show()
    s.grab(launcher, "launcher")
    launcher.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demo_root", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--placeholder-ai", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated: launcher,mri,cytology,motility,conjunctiva")
    args = parser.parse_args(argv)
    ensure_application()
    root = args.demo_root
    only = set(filter(None, args.only.split(",")))
    want = lambda name: not only or name in only  # noqa: E731
    if args.placeholder_ai:
        for name in ("mri", "cytology", "motility", "conjunctiva"):
            if want(name) and (root / name / "study.toml").is_file():
                placeholder_ai(root / name)
    s = Shooter(args.out_dir)
    if want("launcher"):
        shoot_launcher(s, root)
    if want("mri"):
        shoot_mri(s, root / "mri")
    if want("cytology"):
        shoot_triage(s, root / "cytology")
    if want("motility"):
        shoot_simple(s, root / "motility", "motility", (Qt.Key.Key_3,))
    if want("conjunctiva"):
        shoot_simple(s, root / "conjunctiva", "conjunctiva", (), text="11.8")
    from app.commands.open_study import finish_background_work

    finish_background_work()
    return 0


if __name__ == "__main__":
    sys.exit(main())
