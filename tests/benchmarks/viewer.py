"""Viewer speed: ``python -m tests.benchmarks.viewer`` prints one JSON line.

* slice change: ``set_slice`` + a full render of the view (``grab()``, offscreen)
  over a 300 x 512 x 512 uint16 series, without and with a 128 x 128 CAM;
* case switch: ``HangingLayoutWidget.set_case`` with already-loaded media
  (3 roles, CAMs; T2axi and DWI axial, T2sag sagittal in one frame of
  reference, so reference lines are computed) + a full render of the layout;
* layout scroll: one slice step of T2axi in that layout (DWI follows, the
  reference lines on T2sag move) + a full render of the layout;
* load ratio: ``study.media.load(folder)`` over plain ``pydicom.dcmread`` +
  ``pixel_array`` of the same ~100 files (a synthetic 512 x 512 uint16 series
  written from a pydicom test file), best of 3 each, same run.  null when the
  media layer is not there.

Budgets (DESIGN.md): slice change p95 <= 16.7 ms, case switch p95 <= 50 ms,
load ratio <= 1.2.  A benchmark, not a test: it reports, it does not assert.
Each GUI timing is reported as wall time and as this process's CPU time
(``*_cpu_*``): on a loaded machine the wall time also counts waiting for a core.
``*_ratio`` divides our p50 CPU time by that of a bare baseline measured in the
same loop, step for step: plain pyqtgraph ImageItems in plain GraphicsViews of the
same size, given the same frames windowed by one numpy expression, rendered the
same way (``grab()``).  The ratio is what the viewer's own work costs on top.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

N_SLICES, SIZE, N_FILES = 300, 512, 100


def percentiles(ms: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(ms, [50, 95])
    return round(float(p50), 3), round(float(p95), 3)


class Timings:
    """Wall and process-CPU milliseconds of repeated steps."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Self:
        self._t0, self._c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append((time.perf_counter() - self._t0) * 1000)
        self.cpu.append((time.process_time() - self._c0) * 1000)

    def report(self, label: str) -> dict[str, float]:
        (w50, w95), (c50, c95) = percentiles(self.wall), percentiles(self.cpu)
        return {f"{label}_p50_ms": w50, f"{label}_p95_ms": w95, f"{label}_cpu_p50_ms": c50, f"{label}_cpu_p95_ms": c95}


class BareViews:
    """The baseline: n plain GraphicsView + ViewBox + ImageItem side by side, no viewer logic."""

    def __init__(self, n: int, width: int, height: int) -> None:
        import pyqtgraph as pg
        from PySide6.QtWidgets import QHBoxLayout, QWidget

        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        self.items = []
        for _ in range(n):
            view = pg.GraphicsView(background="k")
            box = pg.ViewBox(lockAspect=True, enableMenu=False, invertY=True, defaultPadding=0.0)
            view.setCentralItem(box)
            item = pg.ImageItem()
            box.addItem(item)
            row.addWidget(view)
            self.items.append(item)
        self.widget.resize(width, height)
        self.widget.show()

    def show(self, k: int, frame: np.ndarray, window: tuple[float, float] = (1200.0, 1600.0)) -> None:
        low, scale = window[0] - window[1] / 2, 255.0 / window[1]
        self.items[k].setImage(
            np.clip((frame - low) * scale, 0, 255).astype(np.uint8), autoLevels=False, levels=(0, 255)
        )

    def close(self) -> None:
        self.widget.close()


def ratio(ours: Timings, base: Timings) -> float:
    return round(float(np.percentile(ours.cpu, 50) / max(np.percentile(base.cpu, 50), 1e-6)), 3)


def synthetic_volume(n: int, h: int, w: int, seed: int) -> np.ndarray:
    # Smooth anatomy-like blobs plus noise, as uint16 (a flat array would flatter the renderer).
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 800 + 600 * np.exp(-(((x - w / 2) / (w / 3)) ** 2 + ((y - h / 2) / (h / 3)) ** 2))
    vol = np.empty((n, h, w), np.uint16)
    for i in range(n):
        vol[i] = np.clip(base + 200 * np.sin(i / 9 + x / 40) + rng.normal(0, 30, (h, w)), 0, 4095)
    vol.flags.writeable = False
    return vol


def bench_slice_change(app, Media, ViewportWidget) -> dict[str, float]:
    media = Media(
        frames=synthetic_volume(N_SLICES, SIZE, SIZE, 0), kind="series", spacing=(0.7, 0.7), window=(1200.0, 1600.0)
    )
    cam = np.random.default_rng(1).random((N_SLICES, 128, 128)).astype(np.float16)
    vp = ViewportWidget()
    vp.resize(SIZE + 20, SIZE + 60)
    vp.show()
    bare = BareViews(1, SIZE + 20, SIZE + 60)
    out: dict[str, float] = {}
    for label, overlay in (("slice_change", None), ("slice_change_overlay", cam)):
        vp.set_media(media, overlay)
        app.processEvents()  # settle layout once, before timing
        for i in range(1, 20):  # warm-up
            vp.set_slice(i)
            vp.graphics.grab()
        vp.set_slice(0)
        timings, base = Timings(), Timings()
        for i in range(1, N_SLICES):
            with timings:
                vp.set_slice(i)
                vp.graphics.grab()
            with base:
                bare.show(0, media.frames[i])
                bare.widget.grab()
        out.update(timings.report(label))
        out[f"{label}_ratio"] = ratio(timings, base)
    vp.close()
    bare.close()
    return out


AXIAL, SAGITTAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def bench_case_switch(app, Media, HangingLayoutWidget) -> dict[str, float]:
    def case(seed: int) -> tuple[dict, dict]:
        roles = {
            "T2axi": (30, 512, 512, AXIAL, 0.7),
            "T2sag": (30, 512, 512, SAGITTAL, 0.7),
            "DWI": (24, 256, 256, AXIAL, 1.4),
        }
        media = {}
        for k, (r, (n, h, w, iop, mm)) in enumerate(roles.items()):
            normal = tuple(float(v) for v in np.cross(iop[:3], iop[3:]))
            origin = (-180.0, -180.0, -30.0) if iop == AXIAL else (-30.0, -180.0, 180.0)
            first = float(np.dot(origin, normal))
            media[r] = Media(
                frames=synthetic_volume(n, h, w, seed + k),
                kind="series",
                window=(1200.0, 1600.0),
                spacing=(mm, mm),
                slice_positions=tuple(first + 2.0 * i for i in range(n)),
                frame_of_reference=f"1.2.{seed}",
                slice_normal=normal,
                orientation=iop,
                origin=origin,
            )
        cams = {
            r: np.random.default_rng(seed).random((shape[0], 64, 64)).astype(np.float16) for r, shape in roles.items()
        }
        return media, cams

    cases = [case(s) for s in range(4)]  # prefetched: already in memory
    layout = HangingLayoutWidget()
    layout.resize(1500, 560)
    layout.show()
    layout.set_case(*cases[0])
    app.processEvents()
    bare = BareViews(3, 1500, 560)
    switch, base = Timings(), Timings()
    for k in range(60):
        media = cases[(k + 1) % len(cases)][0]
        with switch:
            layout.set_case(*cases[(k + 1) % len(cases)])
            layout.grab()
        with base:
            for j, m in enumerate(media.values()):
                bare.show(j, m.frames[m.n_frames // 2])
            bare.widget.grab()
    out = switch.report("case_switch")
    out["case_switch_ratio"] = ratio(switch, base)
    axial, sagittal, dwi = (layout.viewport(r) for r in ("T2axi", "T2sag", "DWI"))
    scroll, base = Timings(), Timings()
    for k in range(60):
        with scroll:
            axial.step(1 if (k // 10) % 2 == 0 else -1)
            layout.grab()
        with base:  # the baseline redraws the two axial views that changed
            bare.show(0, axial.media.frames[axial.current_index])
            bare.show(2, dwi.media.frames[dwi.current_index])
            bare.widget.grab()
    assert sagittal.reference.lines(), "the benchmark's planes should cut each other"
    out.update(scroll.report("layout_scroll"))
    out["layout_scroll_ratio"] = ratio(scroll, base)
    layout.close()
    bare.close()
    return out


def write_series(folder: Path) -> list[Path]:
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    vol = synthetic_volume(N_FILES, SIZE, SIZE, 7)
    series_uid, frame_uid = generate_uid(), generate_uid()
    paths = []
    for i in range(N_FILES):
        ds = template.copy()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID, ds.FrameOfReferenceUID = series_uid, frame_uid
        ds.Rows, ds.Columns = SIZE, SIZE
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, 2.5 * i]
        ds.SliceLocation, ds.InstanceNumber = 2.5 * i, i + 1
        ds.PixelData = vol[i].tobytes()
        path = folder / f"slice_{(i * 37) % N_FILES:03d}.dcm"  # on-disk order is not slice order
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def bench_load_ratio() -> dict[str, float | None]:
    import pydicom

    try:
        from study.media import load
    except ImportError:
        return {"load_ratio": None, "load_ms": None, "pydicom_ms": None}
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_series(Path(tmp))

        def plain() -> None:
            for p in paths:
                _ = pydicom.dcmread(p).pixel_array  # decode: the baseline's work

        def ours() -> None:
            load(tmp)

        best = {"plain": float("inf"), "ours": float("inf")}
        for _ in range(3):  # alternate, so both see the same page-cache state
            for name, fn in (("plain", plain), ("ours", ours)):
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t0)
    return {
        "load_ratio": round(best["ours"] / best["plain"], 3),
        "load_ms": round(best["ours"] * 1000, 1),
        "pydicom_ms": round(best["plain"] * 1000, 1),
    }


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from app.viewer import HangingLayoutWidget, ViewportWidget
    from study.media.types import Media

    app = QApplication.instance() or QApplication(sys.argv[:1])
    result: dict[str, object] = {}
    result.update(bench_slice_change(app, Media, ViewportWidget))
    result.update(bench_case_switch(app, Media, HangingLayoutWidget))
    result.update(bench_load_ratio())
    result["n_slices"], result["slice_size"], result["load_files"] = N_SLICES, SIZE, N_FILES
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
