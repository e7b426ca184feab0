"""From a media layer ``Media`` to network input tensors.

A plan says which images go through the network (one per photo, per slice,
per video key frame or motion window), which of them are averaged into the
prediction, and which image's CAM each media frame shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from inference.spec import ModelSpec
from study.media.types import Media, MediaError


@dataclass(frozen=True)
class InputPlan:
    images: torch.Tensor  # (K, C, h, w), normalized
    predict_index: tuple[int, ...]  # images averaged into the role's prediction
    frame_map: np.ndarray  # (N,) media frame -> image index whose CAM it shows; -1 = none


def to_unit(media: Media, window: str = "media", fixed: tuple[float, float] | None = None) -> np.ndarray:
    """Frames as float32 in [0, 1]: DICOM through its window, photos and video by dtype.

    ``fixed``: a (center, width) in modality units used for every case.  A
    per-series auto window (percentiles of the series) lets a very bright
    lesion darken everything else, which a network learns as a shortcut; a
    fixed window keeps intensities comparable across patients.
    """
    frames = media.frames
    refuse_nonfinite(media)
    if frames.dtype == np.uint8 and fixed is None:
        return frames.astype(np.float32) / 255.0
    x = frames.astype(np.float32)
    if fixed is not None:
        center, width = fixed
        lo = center - width / 2.0
    elif media.kind in ("dicom", "series", "multiframe") and media.window is not None and window == "media":
        center, width = media.window
        width = max(float(width), 1e-6)
        lo = center - width / 2.0
    elif frames.dtype == np.uint16 and media.kind == "image":
        lo, width = 0.0, 65535.0
    else:
        # No window: stretch the whole series (not each slice) so slices stay comparable.
        lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
        width = max(hi - lo, 1e-6)
    return np.clip((x - lo) / width, 0.0, 1.0)


def refuse_nonfinite(media: Media) -> None:
    """Raise MediaError when float frames hold NaN or inf.

    A network fed NaN returns NaN probabilities, an arbitrary argmax label and
    an all-zero CAM, without an error; no fill value is right for every model
    (a NaN background may mean "outside the field of view" or "failed
    reconstruction"), so the case is refused and precompute records the cause.
    """
    frames = media.frames
    if frames.dtype.kind != "f":
        return
    bad = int(frames.size - np.count_nonzero(np.isfinite(frames)))
    if bad:
        raise MediaError(
            media.source or media.kind,
            f"{bad} non-finite pixel values (NaN/inf): the model cannot read them; "
            "fix the file or mask those pixels before the study",
        )


def _gray(x: np.ndarray) -> np.ndarray:
    """(..., 3) colour to luminance (ITU-R BT.601), gray passes through."""
    if x.ndim == 4:
        return x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return x


def crop_box(hw: tuple[int, int], crop: float) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) of the central ``crop`` fraction of a frame."""
    h, w = hw
    ch, cw = max(1, round(h * crop)), max(1, round(w * crop))
    r0, c0 = (h - ch) // 2, (w - cw) // 2
    return r0, c0, r0 + ch, c0 + cw


def to_tensor(unit_frames: np.ndarray, spec: ModelSpec) -> torch.Tensor:
    """(K, H, W) or (K, H, W, 3) in [0, 1] -> (K, C, h, w) cropped, resized and normalized."""
    if spec.crop < 1.0:
        r0, c0, r1, c1 = crop_box(unit_frames.shape[1:3], spec.crop)
        unit_frames = unit_frames[:, r0:r1, c0:c1]
    if spec.channels == 1:
        t = torch.from_numpy(np.ascontiguousarray(_gray(unit_frames)))[:, None]
    elif unit_frames.ndim == 4:
        t = torch.from_numpy(np.ascontiguousarray(unit_frames)).permute(0, 3, 1, 2)
    else:
        # Grayscale replicated to 3 channels, as for ImageNet-shaped networks.
        t = torch.from_numpy(np.ascontiguousarray(unit_frames))[:, None].expand(-1, 3, -1, -1)
    return normalize(resize(t.float(), spec.input_size), spec)


def resize(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(t.shape[-2:]) == tuple(size):
        return t.contiguous()
    # antialias keeps downsampled 512 px slices from aliasing into texture.
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)


def normalize(t: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    mean = torch.tensor(spec.mean, dtype=t.dtype).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, dtype=t.dtype).view(1, -1, 1, 1)
    return (t - mean) / std


def motion_composite(gray: np.ndarray) -> np.ndarray:
    """(T, H, W) in [0, 1] -> (H, W, 3): first frame, motion energy, net displacement.

    The motility model reads the first frame's appearance and two motion
    channels: the mean absolute frame difference (how much moves: speed) and
    the absolute difference of last and first frame (how far things went:
    progressive vs circling).  Differences are scaled up so they span [0, 1].
    """
    first = gray[0]
    if gray.shape[0] < 2:
        zeros = np.zeros_like(first)
        return np.stack([first, zeros, zeros], axis=-1)
    energy = np.abs(np.diff(gray, axis=0)).mean(axis=0)
    net = np.abs(gray[-1] - gray[0])
    return np.stack([first, np.clip(energy * 4.0, 0, 1), np.clip(net * 2.0, 0, 1)], axis=-1).astype(np.float32)


def _windows(n: int, k: int) -> list[np.ndarray]:
    k = max(1, min(k, n))
    return [w for w in np.array_split(np.arange(n), k) if len(w)]


def central(n: int, count: int) -> np.ndarray:
    count = min(count, n)
    start = (n - count) // 2
    return np.arange(start, start + count)


def plan_inputs(media: Media, spec: ModelSpec, fixed_window: tuple[float, float] | None = None) -> InputPlan:
    """What the network reads for one media item (see module doc)."""
    unit = to_unit(media, spec.window, fixed_window)
    n = media.n_frames
    if spec.input == "motion":
        # One composite per window of the clip (key_frames windows; 1 = the whole clip).
        windows = _windows(n, spec.key_frames)
        gray = _gray(unit)
        comps = np.stack([motion_composite(gray[w]) for w in windows])
        frame_map = np.concatenate([np.full(len(w), i) for i, w in enumerate(windows)])
        return InputPlan(to_tensor(comps, spec), tuple(range(len(windows))), frame_map)
    if n == 1:
        return InputPlan(to_tensor(unit, spec), (0,), np.zeros(1, dtype=int))
    if media.kind == "video":
        # Key frames: the first frame of each window; every frame shows its window's CAM.
        windows = _windows(n, spec.key_frames)
        keys = np.array([w[0] for w in windows])
        frame_map = np.concatenate([np.full(len(w), i) for i, w in enumerate(windows)])
        return InputPlan(to_tensor(unit[keys], spec), tuple(range(len(keys))), frame_map)
    # Volume: predict from the selected slices, CAM on every slice or only on those.
    selected = np.arange(n) if spec.slice_select == "all" else central(n, spec.slice_count)
    if spec.slice_cam == "all":
        return InputPlan(to_tensor(unit, spec), tuple(int(i) for i in selected), np.arange(n))
    frame_map = np.full(n, -1)
    frame_map[selected] = np.arange(len(selected))
    return InputPlan(to_tensor(unit[selected], spec), tuple(range(len(selected))), frame_map)
