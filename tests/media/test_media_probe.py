"""`readerstudy probe` as a user runs it: a subprocess, JSON out or one error line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media.conftest import SKIMAGE_DATA, dicom_file, write_series

ROOT = Path(__file__).resolve().parents[2]


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "probe", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_probe_dicom_prints_json() -> None:
    res = probe(str(dicom_file("emri_small.dcm")), "--json")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.count("\n") == 1  # one compact line
    info = json.loads(res.stdout)
    assert info["kind"] == "multiframe"
    assert info["shape"] == [10, 64, 64] and info["frames"] == 10
    assert info["dtype"] == "float32"
    assert info["window"] is not None and len(info["spacing"]) == 2
    assert set(info) >= {"kind", "shape", "dtype", "frames", "spacing", "window", "fps"}


def test_probe_series_folder_and_photo_without_flag(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    write_series(folder, 6)
    res = probe(str(folder))
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)  # indented, still JSON
    assert info["kind"] == "series" and info["shape"] == [6, 64, 64]
    assert info["slice_spacing"] == pytest.approx(3.0)
    photo = json.loads(probe(str(SKIMAGE_DATA / "retina.jpg")).stdout)
    assert photo["kind"] == "image" and photo["dtype"] == "uint8" and photo["window"] is None


@pytest.mark.parametrize(
    ("target", "cause"),
    [
        (dicom_file("MR_truncated.dcm"), "truncated"),
        (dicom_file("rtplan.dcm"), "no pixel data"),
        (dicom_file("zipMR.gz"), "unknown format"),
        (Path("/definitely/not/here.dcm"), "missing file"),
    ],
)
def test_probe_unreadable_prints_one_error_line_and_exits_2(target: Path, cause: str) -> None:
    res = probe(str(target), "--json")
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"error: {target}: ")
    assert cause in lines[0]
    assert "Traceback" not in res.stderr


def test_probe_truncated_video_is_one_line(tmp_path: Path) -> None:
    import av
    import numpy as np

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=15)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for i in range(15):
            img = np.full((32, 32, 3), 16 * i, np.uint8)
            for pk in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[:600])
    res = probe(str(cut))
    assert res.returncode == 2
    assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith(f"error: {cut}: ")


def test_probe_corrupt_tiff_stays_one_line_despite_library_logging(tmp_path: Path) -> None:
    data = bytearray((SKIMAGE_DATA / "multipage_rgb.tif").read_bytes())
    data[2832:2834] = b"\xff\xff"  # break a tag of the second page
    path = tmp_path / "broken.tif"
    path.write_bytes(bytes(data[: len(data) // 2]))
    res = probe(str(path))
    assert res.returncode == 2
    assert res.stderr.splitlines() == [res.stderr.strip()]
    assert res.stderr.startswith(f"error: {path}: ")


def test_probe_decoder_panic_message_does_not_reach_stderr(tmp_path: Path) -> None:
    from tests.media.test_media_dicom import corrupt_rle

    path = corrupt_rle(tmp_path)
    res = probe(str(path))
    assert res.returncode == 2
    assert res.stderr.splitlines() == [f"error: {path}: " + res.stderr.split(": ", 2)[2].strip()]
    assert "panicked" not in res.stderr


def test_probe_reports_frame_order_and_orientation_decisions() -> None:
    from tests.media.conftest import fieldcases_dir

    media = fieldcases_dir() / "media"
    enhanced = probe(str(media / "c06_enhanced_mr_frames_unsorted.dcm"), "--json")
    assert enhanced.returncode == 0, enhanced.stderr
    info = json.loads(enhanced.stdout)
    assert info["slice_positions"] == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]
    assert any("re-ordered" in d and "PlanePositionSequence" in d for d in info["decisions"])
    video = probe(str(media / "c03_phone_portrait_rot90.mp4"), "--json")
    assert video.returncode == 0, video.stderr
    info = json.loads(video.stdout)
    assert info["shape"][1:3] == [64, 48]
    assert info["decisions"] == ["display matrix applied: frames turned 90 degrees clockwise"]
    assert len(info["frame_times"]) == info["frames"]
    plain = json.loads(probe(str(media / "c01_none_rgb.tif"), "--json").stdout)
    assert plain["decisions"] == []


def test_probe_reports_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 8
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (40, 20), (10, 200, 30)).save(path, exif=exif)
    info = json.loads(probe(str(path), "--json").stdout)
    assert info["shape"] == [1, 40, 20, 3]
    assert info["decisions"] == ["EXIF orientation 8 applied (rotated 90 counter-clockwise)"]
