"""Screenshots of the viewer for a human to look at (not a test).

    xvfb-run -a .venv/bin/python -m tests.viewer.make_screenshots [OUTDIR]

Writes a synthetic MR-like DICOM series per role (Shepp-Logan phantom through
pydicom, read back by ``study.media.load``), shows three roles with a CAM in a
HangingLayoutWidget, and a synthetic MP4 clip in a ViewportWidget; then the demo
MRI case (study/demo/mri.py: T2axi, T2sag, DWI in one frame of reference) with
its reference lines, a manual window ("custom") and a maximised viewport.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np


def write_series(folder: Path, size: int, n: int, thickness: float, frame_uid: str) -> None:
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    from skimage.data import shepp_logan_phantom
    from skimage.transform import resize

    folder.mkdir(parents=True)
    template = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    phantom = resize(shepp_logan_phantom(), (size, size), anti_aliasing=True)
    series_uid = generate_uid()
    for i in range(n):
        z = (i - n / 2) / (n / 2)
        scale = np.sqrt(max(0.05, 1 - z * z))  # the head narrows towards its ends
        img = np.zeros((size, size))
        inner = int(size * scale) // 2 * 2
        if inner >= 8:
            pad = (size - inner) // 2
            img[pad : pad + inner, pad : pad + inner] = resize(phantom, (inner, inner), anti_aliasing=True)
        lesion = np.exp(
            -(
                ((np.arange(size)[None, :] - 0.62 * size) ** 2 + (np.arange(size)[:, None] - 0.4 * size) ** 2)
                / (2 * (0.05 * size) ** 2)
            )
        ) * np.exp(-((z / 0.3) ** 2))
        pixels = np.clip((img * 900 + lesion * 500 + np.random.default_rng(i).normal(0, 15, img.shape)), 0, 4095)
        ds = template.copy()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID, ds.FrameOfReferenceUID = series_uid, frame_uid
        ds.Rows = ds.Columns = size
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelSpacing = [240.0 / size, 240.0 / size]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, thickness * i]
        ds.InstanceNumber = i + 1
        ds.WindowCenter, ds.WindowWidth = 600, 1200
        ds.PatientName = "DOE^JANE"  # must never reach the screen
        ds.PixelData = pixels.astype(np.uint16).tobytes()
        ds.save_as(folder / f"{i:03d}.dcm", enforce_file_format=True)


def write_video(path: Path, n: int = 15, fps: int = 15, size: int = 240) -> None:
    import av

    rng = np.random.default_rng(3)
    cells = rng.uniform(20, size - 20, (12, 2))
    speed = rng.normal(0, 4, (12, 2))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        y, x = np.mgrid[0:size, 0:size]
        for i in range(n):
            frame = np.full((size, size, 3), (60, 70, 90), np.uint8)
            for (cx, cy), (vx, vy) in zip(cells, speed):
                px, py = cx + vx * i, cy + vy * i
                frame[(x - px) ** 2 + ((y - py) * 1.6) ** 2 < 30] = (235, 235, 210)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def cam_for(media, center=(0.4, 0.62), sigma=0.12, size=16) -> np.ndarray:
    """A coarse Grad-CAM-like map (size x size per slice) peaking at the lesion."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    blob = np.exp(-((yy - center[0]) ** 2 + (xx - center[1]) ** 2) / (2 * sigma**2))
    n = media.n_frames
    z = (np.arange(n) - n / 2) / (n / 2)
    return (blob[None] * np.exp(-((z / 0.35) ** 2))[:, None, None]).astype(np.float16)


def main(out_dir: str = "screenshots") -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from pydicom.uid import generate_uid

    from app.viewer import HangingLayoutWidget, ViewportWidget
    from study.media import load

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        frame_uid = generate_uid()
        write_series(Path(tmp, "T2axi"), 256, 24, 4.0, frame_uid)
        write_series(Path(tmp, "T2sag"), 256, 20, 5.0, generate_uid())
        write_series(Path(tmp, "DWI"), 128, 12, 8.0, frame_uid)
        media = {role: load(Path(tmp, role)) for role in ("T2axi", "T2sag", "DWI")}
        write_video(Path(tmp, "clip.mp4"))
        video = load(Path(tmp, "clip.mp4"))

    layout = HangingLayoutWidget(linked_cursor=True)
    layout.resize(1200, 460)
    layout.set_case(media, overlays_by_role={role: cam_for(m) for role, m in media.items()})
    layout.show()
    layout.viewport("T2axi").set_slice(12)  # DWI follows by position, T2sag by fraction
    layout.viewport("T2axi").show_cursor(0.62, 0.4)
    layout.on_viewport_cursor_moved(layout.viewport("T2axi"), 0.62, 0.4)
    app.processEvents()
    layout.grab().save(str(out / "viewer_series_cam.png"))
    layout.set_overlays_visible(False)
    layout.grab().save(str(out / "viewer_series_nocam.png"))

    vp = ViewportWidget()
    vp.resize(480, 520)
    vp.set_media(video)
    vp.show()
    vp.set_slice(7)
    app.processEvents()
    vp.grab().save(str(out / "viewer_video.png"))
    demo_mri(app, out)
    print(f"wrote {out}/viewer_series_cam.png, viewer_series_nocam.png, viewer_video.png, viewer_mri_*.png")
    return 0


def demo_mri(app, out: Path) -> None:
    import csv

    from app.viewer import HangingLayoutWidget
    from study.demo.mri import ROLES, build_mri
    from study.media import load

    with tempfile.TemporaryDirectory() as tmp:
        study = build_mri(Path(tmp, "mri"), seed=3, n=2)
        with open(study / "cases.csv", newline="") as f:
            row = next(csv.DictReader(f))
        media = {role: load(study / row[role]) for role in ROLES}
    layout = HangingLayoutWidget()
    layout.resize(1350, 500)
    layout.set_case(media)
    layout.show()
    app.processEvents()
    layout.grab().save(str(out / "viewer_mri_open.png"))
    layout.viewport("T2sag").step(-3)  # the sagittal moves alone; the axial lines follow
    layout.viewport("T2axi").step(2)  # DWI follows T2axi; the lines on T2sag move
    dwi = layout.viewport("DWI")
    dwi.set_window(dwi.window[0] * 1.2, dwi.window[1] * 0.8)  # a manual window: the box says "custom"
    app.processEvents()
    layout.grab().save(str(out / "viewer_mri_scrolled.png"))
    layout.toggle_maximised("T2sag")
    app.processEvents()
    layout.grab().save(str(out / "viewer_mri_maximised.png"))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
