"""Real short videos written with PyAV: frames, fps, and truncated copies."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from study.media import MediaError, detect_kind, load

W, H, N, FPS = 64, 48, 15, 15


def write_clip(path: Path, codec: str, fps: int = FPS, n: int = N) -> None:
    """A white square sliding right by 3 px per frame on black: a 1-second motility-style clip."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(n):
            img = np.zeros((H, W, 3), np.uint8)
            img[16:32, 3 * i : 3 * i + 12] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.parametrize(("name", "codec"), [("clip.mp4", "libx264"), ("clip.avi", "mpeg4"), ("clip.mov", "mpeg4")])
def test_clip_loads_with_its_frames_and_fps(tmp_path: Path, name: str, codec: str) -> None:
    path = tmp_path / name
    write_clip(path, codec)
    assert detect_kind(path) == "video"
    media = load(path)
    assert media.kind == "video"
    assert media.frames.shape == (N, H, W, 3) and media.frames.dtype == np.uint8
    assert media.fps == pytest.approx(FPS)
    assert media.window is None
    # the square moves right: its centre column grows by ~3 px per frame
    centres = [float(np.nonzero(f[:, :, 0].max(axis=0) > 128)[0].mean()) for f in media.frames]
    assert np.all(np.diff(centres) > 1.5)
    assert centres[0] == pytest.approx(5.5, abs=1.5)


def test_other_frame_rate_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "fast.mp4"
    write_clip(path, "libx264", fps=25, n=10)
    media = load(path)
    assert media.fps == pytest.approx(25) and media.n_frames == 10


@pytest.mark.parametrize(("name", "codec"), [("clip.mp4", "libx264"), ("clip.avi", "mpeg4")])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_video_fails_with_media_error(tmp_path: Path, name: str, codec: str, keep: float) -> None:
    path = tmp_path / name
    write_clip(path, codec)
    data = path.read_bytes()
    cut = tmp_path / f"cut_{name}"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(MediaError) as info:
        load(cut)
    assert info.value.path == str(cut)
    assert "video" in info.value.cause and "\n" not in info.value.cause


def test_garbage_named_mp4_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError, match="video"):
        load(path)


def test_lazy_clip_gives_the_same_frames_in_any_order(tmp_path: Path) -> None:
    from study.media import open_video

    path = tmp_path / "long.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"g": "8"}  # a keyframe every 8 frames: jumps must seek
        for i in range(40):
            img = np.full((H, W, 3), 6 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    eager = load(path).frames
    with open_video(path) as clip:
        assert len(clip) == 40 and clip.fps == pytest.approx(15) and clip.shape == (H, W, 3)
        for i in [0, 1, 2, 17, 3, 4, 39, 38, 0, 25, 26, -1]:
            assert np.array_equal(clip[i], eager[i])
        with pytest.raises(IndexError):
            clip[40]


def test_lazy_clip_of_a_truncated_file_fails_with_media_error(tmp_path: Path) -> None:
    from study.media import open_video

    path = tmp_path / "clip.mp4"
    write_clip(path, "libx264")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[:700])
    with pytest.raises(MediaError):
        with open_video(cut) as clip:
            for i in range(len(clip)):
                clip[i]
    from tests.media.conftest import SKIMAGE_DATA

    with pytest.raises(MediaError, match="not a video"):
        open_video(SKIMAGE_DATA / "camera.png")
