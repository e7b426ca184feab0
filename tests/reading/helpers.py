"""Helpers: a tiny real study on disk (PNG photos from scikit-image, study.toml, cases.csv,
readers with scrypt PINs, the SQLite store) and fake clocks for the reading tests."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QAbstractListModel, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QTableWidget,
    QWidget,
)
from skimage import data

from study.aioutput import AIOutput
from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml
from study.store import Store
from tests.aimodel import attach_test_model

PIN = "2468"
READERS = (("r1", "resident"), ("r2", "specialist"))

TASKS = {
    "binary": Task("binary", "Is the lesion malignant?", labels=("benign", "malignant"), confidence="0-100"),
    "multiclass": Task("multiclass", "Which class?", labels=("normal", "CIN1", "CIN2+"), positive=("CIN2+",)),
    "grade_distribution": Task("grade_distribution", "Motility grade?", grades=("A", "B", "C", "D", "E")),
    "numeric": Task("numeric", "Hemoglobin?", unit="g/dL", min=3.0, max=20.0),
}
TRUTHS = {
    "binary": ("1", "0"),
    "multiclass": ("CIN2+", "normal", "CIN1"),
    "grade_distribution": ("0.1;0.2;0.4;0.2;0.1", "0.6;0.2;0.1;0.05;0.05"),
    "numeric": ("12.5", "9.1"),
}


class FakeMonotonic:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeNow:
    """An aware UTC datetime that moves only when the test says so."""

    def __init__(self, start: datetime = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@dataclass
class StudyFolder:
    path: Path
    protocol: Protocol
    case_ids: list[str]
    truths: dict[str, str]
    patients: dict[str, str]

    def put_ai(self, kind: str | None = None) -> dict[str, AIOutput]:
        """Attach the test model and store one AI output with a small real CAM per case."""
        attach_test_model(self.path)
        store = Store.open(self.path)
        outs = {}
        try:
            for i, cid in enumerate(self.case_ids):
                out = ai_output_for(self.protocol, cid, i)
                store.put_ai_output(out)
                outs[cid] = out
        finally:
            store.close()
        return outs


def _images() -> list[np.ndarray]:
    imgs = [data.camera(), data.coins(), data.moon(), data.cell(), data.astronaut()]
    out = []
    for a in imgs:
        im = Image.fromarray(a)
        im.thumbnail((160, 160))
        out.append(np.asarray(im))
    return out


def write_video(path: Path, image: np.ndarray, n: int = 15, fps: int = 15) -> None:
    """A 1-second clip: the image drifting right by 2 px a frame (MPEG-4 part 2, no x264 needed)."""
    import av

    gray = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
    h, w = (gray.shape[0] // 16) * 16, (gray.shape[1] // 16) * 16
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for k in range(n):
            rgb = np.repeat(np.roll(gray[:h, :w], 2 * k, axis=1)[..., None], 3, axis=2)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def ai_output_for(protocol: Protocol, case_id: str, i: int) -> AIOutput:
    task = protocol.task
    yy, xx = np.mgrid[0:24, 0:24]
    cam = np.exp(-(((yy - 6 - 2 * i) ** 2 + (xx - 12) ** 2) / 30.0))[None].astype(np.float16)
    cams = {role: cam for role in protocol.hanging.roles}
    if task.kind == "binary":
        p = [0.85, 0.3, 0.6, 0.1, 0.7][i % 5]
        return AIOutput(
            case_id,
            "m-test",
            "binary",
            task.labels,
            (1 - p, p),
            predicted=task.labels[int(p >= 0.5)],
            score=p,
            cams=cams,
            cam_method="GradCAM",
        )
    if task.kind == "multiclass":
        probs = [(0.1, 0.2, 0.7), (0.8, 0.15, 0.05), (0.2, 0.6, 0.2), (0.5, 0.3, 0.2), (0.05, 0.15, 0.8)][i % 5]
        return AIOutput(
            case_id,
            "m-test",
            "multiclass",
            task.labels,
            probs,
            predicted=task.labels[int(np.argmax(probs))],
            score=probs[2],
            cams=cams,
        )
    if task.kind == "grade_distribution":
        probs = (0.1, 0.2, 0.4, 0.2, 0.1)
        return AIOutput(
            case_id, "m-test", "grade_distribution", task.grades, probs, predicted="C", score=0.0, cams=cams
        )
    v = 11.0 + i
    return AIOutput(
        case_id, "m-test", "regression", value=v, interval=(v - 1.5, v + 1.5), predicted=str(v), score=v, cams=cams
    )


def make_study(
    root: Path,
    kind: str = "binary",
    *,
    design: str = "sequential",
    n: int = 4,
    roles: tuple[str, ...] = ("photo",),
    mode: str = "reading",
    washout_days: int = 28,
    time_limit_seconds: int = 0,
    show_timer: bool = True,
    feedback: bool = False,
) -> StudyFolder:
    root.mkdir(parents=True, exist_ok=True)
    protocol = Protocol(
        study_id="tiny",
        title="Tiny test study",
        design=design,
        seed=7,
        task=TASKS[kind],
        hanging=HangingProtocol(roles, "position"),
        washout_days=washout_days,
        groups=("resident", "specialist"),
        mode=mode,
        feedback=feedback,
        show_timer=show_timer,
        time_limit_seconds=time_limit_seconds,
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    images = _images()
    (root / "media").mkdir(exist_ok=True)
    case_ids = [f"QX{731 + 17 * i}" for i in range(n)]
    truths, patients, rows = {}, {}, []
    for i, cid in enumerate(case_ids):
        truths[cid] = TRUTHS[kind][i % len(TRUTHS[kind])]
        patients[cid] = f"PAT{9100 + i}"
        row = {"case_id": cid, "truth": truths[cid], "patient_id": patients[cid]}
        for j, role in enumerate(roles):
            if role == "video":
                rel = f"media/{cid}_{role}.mp4"
                write_video(root / rel, images[(i + j) % len(images)])
            else:
                rel = f"media/{cid}_{role}.png"
                Image.fromarray(images[(i + j) % len(images)]).save(root / rel)
            row[role] = rel
        rows.append(row)
    with open(root / "cases.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["case_id", "truth", "patient_id", *roles])
        w.writeheader()
        w.writerows(rows)
    store = Store.open(root)
    try:
        for code, group in READERS:
            store.add_reader(code, group, PIN)
    finally:
        store.close()
    return StudyFolder(root, protocol, case_ids, truths, patients)


# Words only AI content uses; "72 %" is how the AI panel shows a probability.
AI_WORDS = re.compile(r"\bAI\b|predict|probab|heat map|CAM\b|grad|model|\d+ %", re.IGNORECASE)


def screen_texts(window) -> list[str]:
    """Every text a reader could see or hover in the window, incl. the viewer's corner labels."""
    texts = [window.windowTitle()]
    for w in [window, *window.findChildren(QWidget)]:
        texts += [w.toolTip(), w.windowTitle(), w.accessibleName(), w.statusTip(), w.whatsThis()]
        if isinstance(w, (QLabel, QAbstractButton)):
            texts.append(w.text())
        elif isinstance(w, QLineEdit):
            texts += [w.text(), w.placeholderText()]
        elif isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QTableWidget):
            texts += [
                w.item(r, c).text()
                for r in range(w.rowCount())
                for c in range(w.columnCount())
                if w.item(r, c) is not None
            ]
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()  # model/view tables (the triage queue) and lists: cells, tooltips and headers
            n_cols = 1 if isinstance(m, QAbstractListModel) else m.columnCount()  # a list's columnCount is private
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                texts += [
                    str(m.index(r, c).data(role))
                    for r in range(m.rowCount())
                    for c in range(n_cols)
                    if m.index(r, c).data(role) is not None
                ]
                texts += [
                    str(m.headerData(c, Qt.Orientation.Horizontal, role))
                    for c in range(n_cols)
                    if m.headerData(c, Qt.Orientation.Horizontal, role) is not None
                ]
    viewer = window.reading.viewer
    texts += [vp.corner_text() for vp in viewer.viewports()]
    return [t for t in texts if t]


def open_session(qtbot, engine, clock, *, index: int = 1, wait: bool = True):
    """Sign r1 in on a shown main window and open a session; (window, reading screen)."""
    from app.main_window import MainWindow

    window = MainWindow(engine, clock=clock)
    qtbot.addWidget(window)
    window.show()
    assert window.login_state.login("r1", PIN) == "r1"
    window.on_logged_in("r1")
    window.on_session_chosen(index)
    screen = window.reading
    if wait:
        qtbot.waitUntil(lambda: screen.state.item is not None and not screen.state.loading)
    return window, screen
