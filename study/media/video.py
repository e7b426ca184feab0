"""Videos (MP4, AVI, MOV, MKV) decoded with PyAV into (N, H, W, 3) uint8 RGB.

The clips in reader studies are short (a 1-second sperm motility clip is 15
frames), so every frame is decoded up front; the size guard refuses anything
that would not fit.  A file whose container declares more frames than decode
(after the frames an edit list trims) is reported as truncated rather than
shown half-played.  Frames are turned by the display matrix (phone videos)
and carry their presentation times (``Media.frame_times``) for variable rates.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

from study.media.guard import MAX_BYTES, check_size, fail, one_line, quiet
from study.media.orient import rotate_ccw
from study.media.types import Media


def _fps(stream: av.video.stream.VideoStream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(Fraction(rate))
            if 0 < value < 10_000:
                return value
    return None


def _declared_frames(stream: av.video.stream.VideoStream, fps: float | None) -> int:
    if stream.frames:
        return int(stream.frames)
    if stream.duration and stream.time_base and fps:
        return int(round(float(stream.duration * stream.time_base) * fps))
    return 0


def load_video(path: str | os.PathLike[str]) -> Media:
    """Every frame as players show it: (N, H, W, 3) uint8 RGB, turned by the display matrix.

    * rotation: each frame is turned by PyAV's ``VideoFrame.rotation`` (the
      display matrix, e.g. a phone held upright: coded 64 x 48, shown 48 x 64);
    * edit lists: packets the container marks as discarded (a trimmed MP4 keeps
      the frames before the cut for decoding only) are neither shown nor
      counted as missing; a file is called truncated only when fewer frames
      decode than its sample table holds outside the edit;
    * timing: ``frame_times`` are the presentation timestamps in seconds from the
      first shown frame, so a variable-rate clip plays at its recorded speed;
      ``fps`` is the container's average rate.
    """
    p = os.fspath(path)
    try:
        with quiet(), av.open(p, mode="r") as container:
            if not container.streams.video:
                raise fail(p, "no video stream in file")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = _fps(stream)
            declared = _declared_frames(stream, fps)
            w, h = stream.codec_context.width, stream.codec_context.height
            if w <= 0 or h <= 0:
                raise fail(p, "corrupt video: no frame size in stream header")
            frame_bytes = w * h * 3
            check_size(p, declared * frame_bytes, "the decoded video")
            decoded = _decode_all(p, container, stream, frame_bytes)
    except av.error.FFmpegError as exc:
        raise fail(p, f"corrupt or truncated video: {one_line(getattr(exc, 'strerror', None) or exc, 160)}") from None
    except MemoryError:
        raise fail(p, "video too large to decode") from None
    frames = decoded.frames
    if not frames:
        raise fail(p, "corrupt or truncated video: no decodable frames")
    expected = declared - decoded.discarded if stream_frames_known(declared) else 0
    if expected and len(frames) < expected:
        raise fail(p, f"truncated video: decoded {len(frames)} of {expected} frames")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise fail(p, "corrupt video: frame size changes mid-stream")
    decisions = []
    if decoded.rotations:
        turns = ", ".join(_TURN_NAMES[r] for r in sorted(decoded.rotations))
        decisions.append(f"display matrix applied: frames turned {turns}")
    if decoded.discarded:
        decisions.append(f"edit list: {decoded.discarded} frames before the start of the edit not shown")
    return Media(
        frames=np.stack(frames),
        kind="video",
        fps=fps,
        source=p,
        frame_times=decoded.times,
        decisions=tuple(decisions),
    )


_TURN_NAMES = {90: "90 degrees counter-clockwise", 180: "180 degrees", 270: "90 degrees clockwise"}


def stream_frames_known(declared: int) -> bool:
    return declared > 0


class _Decoded:
    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.pts: list[float | None] = []
        self.discarded = 0
        self.rotations: set[int] = set()

    @property
    def times(self) -> tuple[float, ...] | None:
        if not self.pts or any(t is None for t in self.pts):
            return None
        t0 = self.pts[0]
        return tuple(float(t) - float(t0) for t in self.pts)  # type: ignore[arg-type]


def upright(p: str, frame: av.VideoFrame) -> tuple[np.ndarray, int]:
    """One decoded frame as RGB, turned as its display matrix says; and the rotation in degrees (ccw)."""
    rgb = frame.to_ndarray(format="rgb24")
    rotation = round(frame.rotation or 0)
    if rotation % 90:
        raise fail(p, f"display matrix rotates by {rotation} degrees, not a multiple of 90")
    return (rotate_ccw(rgb[np.newaxis], rotation)[0] if rotation % 360 else rgb), rotation % 360


def _decode_all(p: str, container, stream, frame_bytes: int) -> _Decoded:  # type: ignore[no-untyped-def]
    out = _Decoded()
    limit = MAX_BYTES // max(frame_bytes, 1)
    for packet in container.demux(stream):
        if packet.size and packet.is_discard:
            out.discarded += 1
        for frame in packet.decode():
            rgb, rotation = upright(p, frame)
            if rotation:
                out.rotations.add(rotation)
            out.frames.append(np.ascontiguousarray(rgb))
            out.pts.append(frame.time)
            if len(out.frames) > limit:  # header lied about the length: stop before memory runs out
                check_size(p, len(out.frames) * frame_bytes, "the decoded video")
    return out


class VideoClip:
    """A video decoded on demand, frame by index, for clips too long to hold in memory.

    Playback (i, i+1, ...) decodes straight on; a jump seeks to the keyframe
    before the target and decodes forward.  Frame timestamps come from one
    demux pass at open (no decoding), so ``n_frames`` is exact; packets an edit
    list discards are not frames.  ``frame_times`` (seconds from the first
    frame) and ``shape`` (after the display-matrix turn, decoded from frame 0)
    match ``load``.  Thread-safe; close it (or use ``with``) to release the file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import threading

        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            with quiet():
                self._container = av.open(self.path, mode="r")
                if not self._container.streams.video:
                    self._container.close()
                    raise fail(self.path, "no video stream in file")
                self._stream = self._container.streams.video[0]
                self.fps = _fps(self._stream)
                pts = [pk.pts for pk in self._container.demux(self._stream) if pk.size and not pk.is_discard]
                if not pts or any(t is None for t in pts):
                    self._container.close()
                    raise fail(self.path, "corrupt or truncated video: frames without timestamps")
                self._pts = sorted(pts)
                self._container.seek(self._pts[0], stream=self._stream, backward=True)
        except av.error.FFmpegError as exc:
            raise fail(
                self.path, f"corrupt or truncated video: {one_line(getattr(exc, 'strerror', None) or exc, 160)}"
            ) from None
        self.n_frames = len(self._pts)
        base = float(self._stream.time_base or 0)
        # Presentation times from the first frame, for cine at the recorded (possibly variable) speed.
        self.frame_times = tuple((t - self._pts[0]) * base for t in self._pts) if base else None
        self._frames = None
        self._next = 0
        try:
            self.shape = self.frame(0).shape  # the display matrix may swap height and width
        except BaseException:
            self._container.close()
            raise

    def __len__(self) -> int:
        return self.n_frames

    def __getitem__(self, index: int) -> np.ndarray:
        return self.frame(index)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as (H, W, 3) uint8 RGB; IndexError outside 0..n_frames-1."""
        if not -self.n_frames <= index < self.n_frames:
            raise IndexError(f"frame {index} of {self.n_frames}")
        index %= self.n_frames
        target = self._pts[index]
        with self._lock, quiet():
            try:
                if self._frames is None or index != self._next:
                    self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
                    self._frames = self._container.decode(self._stream)
                for frame in self._frames:
                    if frame.pts is None or frame.pts < target:
                        continue
                    self._next = index + 1
                    return np.ascontiguousarray(upright(self.path, frame)[0])
            except av.error.FFmpegError as exc:
                self._frames = None
                raise fail(
                    self.path, f"corrupt video at frame {index}: {one_line(getattr(exc, 'strerror', None) or exc, 120)}"
                ) from None
            self._frames = None
            raise fail(self.path, f"truncated video: frame {index} of {self.n_frames} cannot be decoded")

    def close(self) -> None:
        with self._lock:
            self._frames = None
            self._container.close()

    def __enter__(self) -> VideoClip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(path: str | os.PathLike[str]) -> VideoClip:
    """A lazily decoded video (raises MediaError like ``load``)."""
    from study.media.sniff import detect_kind

    kind = detect_kind(path)
    if kind != "video":
        raise fail(path, f"not a video ({kind})")
    return VideoClip(path)
