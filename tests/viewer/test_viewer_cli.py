"""`readerstudy view PATH` and the viewer on real DICOM files from pydicom's test data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from pydicom.data import get_testdata_file
from PySide6.QtGui import QImage

from app.cli import main
from app.viewer import ViewerWindow
from study.media import load


def test_view_missing_path_prints_one_error_line_and_exits_2(tmp_path, capsys):
    missing = tmp_path / "nope.dcm"
    assert main(["view", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {missing}: ")


def test_view_unreadable_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"DICM" * 10)
    assert main(["view", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: ")


def test_view_screenshot_of_a_real_ct(qapp, tmp_path):
    out = tmp_path / "ct.png"
    assert main(["view", get_testdata_file("CT_small.dcm"), "--screenshot", str(out)]) == 0
    img = QImage(str(out))
    assert not img.isNull() and img.width() > 100
    gray = np.array([img.pixelColor(x, y).value() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)])
    assert gray.std() > 10  # an image, not a blank window


def test_window_on_real_multiframe_scrolls_and_hides_the_path(qtbot):
    path = get_testdata_file("emri_small.dcm")
    media = load(path)
    win = ViewerWindow(media)
    qtbot.addWidget(win)
    vp = win.viewport
    assert vp.n_frames == 10 and vp.window == media.window
    assert "slice 6/10" in vp.corner_text()  # a volume opens at its middle slice
    vp.step(-3)
    assert "slice 3/10" in vp.corner_text()
    assert path not in win.windowTitle() and "emri" not in win.windowTitle()


def test_real_color_dicom_has_no_window(qtbot):
    win = ViewerWindow(load(get_testdata_file("SC_rgb.dcm")))
    qtbot.addWidget(win)
    assert win.viewport.window is None


def test_viewer_never_imports_torch():
    code = "import app.viewer, app.viewer.cli, app.workers, sys; sys.exit('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0


def test_view_with_overlay_file(qapp, tmp_path):
    cam = np.zeros((1, 8, 8), np.float32)
    cam[0, 2:6, 2:6] = 1.0
    np.save(tmp_path / "cam.npy", cam)
    plain, with_cam = tmp_path / "plain.png", tmp_path / "cam.png"
    path = get_testdata_file("MR_small.dcm")
    assert main(["view", path, "--screenshot", str(plain)]) == 0
    assert main(["view", path, "--overlay", str(tmp_path / "cam.npy"), "--screenshot", str(with_cam)]) == 0
    assert QImage(str(plain)) != QImage(str(with_cam))


def test_view_with_unreadable_overlay_exits_2(tmp_path, capsys):
    bad = tmp_path / "cam.npy"
    bad.write_text("not numpy")
    assert main(["view", get_testdata_file("MR_small.dcm"), "--overlay", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: ")


def test_real_video_plays_at_its_frame_rate(qtbot, tmp_path):
    import av

    from app.viewer import ViewportWidget

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(15):
            frame = np.full((48, 64, 3), 16 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    media = load(path)
    now = [0.0]
    vp = ViewportWidget(clock=lambda: now[0])
    qtbot.addWidget(vp)
    vp.set_media(media)
    assert media.is_color and vp.window is None and vp.n_frames == 15
    vp.play()
    now[0] += 0.5  # half a second at 15 fps
    vp.cine.on_tick()
    assert vp.current_index == 7
    assert vp.corner_text() == "frame 8/15  0.47 s"
