"""Thumbnails of a specimen's fields (numpy only; the gallery turns them into pixmaps).

``thumbnail(frame, size)`` shrinks one field to fit ``size`` x ``size`` (RGB uint8,
aspect kept, nearest-pixel so it stays sharp and costs microseconds);
``with_cam(thumb, cam, lut, opacity)`` blends a CAM in [0, 1] over it with a
colour lookup table (256 x 3 uint8), the way the full-size overlay shows it.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from app.viewer.overlay import colormap

THUMB = 120  # pixels, longest side of a gallery thumbnail
CAM_OPACITY = 0.45  # a thumbnail's CAM at full strength, as the full-size overlay's default


@cache
def cam_lut() -> np.ndarray:
    """The jet lookup table (256 x 3 uint8) the full-size CAM overlay uses."""
    return colormap("jet").getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)


def _to_rgb8(frame: np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    if frame.ndim == 3 and frame.dtype == np.uint8:
        return frame[..., :3]
    f = frame.astype(np.float32)
    if window is not None:
        lo, hi = window[0] - window[1] / 2, window[0] + window[1] / 2
    else:
        finite = f[np.isfinite(f)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    g = np.clip((np.nan_to_num(f, nan=lo) - lo) / max(hi - lo, 1e-6), 0, 1) * 255
    g = g.astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2) if g.ndim == 2 else g[..., :3]


def thumbnail(frame: np.ndarray, size: int, window: tuple[float, float] | None = None) -> np.ndarray:
    """(h, w, 3) uint8 with max(h, w) == size (or smaller if the field is smaller)."""
    if size < 1:
        raise ValueError(f"thumbnail size must be positive, got {size}")
    rgb = _to_rgb8(frame, window)
    h, w = rgb.shape[:2]
    scale = min(1.0, size / max(h, w))
    rows = np.minimum((np.arange(max(1, round(h * scale))) / scale).astype(int), h - 1)
    cols = np.minimum((np.arange(max(1, round(w * scale))) / scale).astype(int), w - 1)
    return np.ascontiguousarray(rgb[rows][:, cols])


def with_cam(thumb: np.ndarray, cam: np.ndarray, lut: np.ndarray, opacity: float = CAM_OPACITY) -> np.ndarray:
    """``thumb`` with ``cam`` ((h', w') or (1, h', w') in [0, 1], any size) blended over it."""
    cam = np.asarray(cam, dtype=np.float32)
    if cam.ndim == 3:
        cam = cam[0]
    h, w = thumb.shape[:2]
    rows = np.minimum((np.arange(h) * cam.shape[0] / h).astype(int), cam.shape[0] - 1)
    cols = np.minimum((np.arange(w) * cam.shape[1] / w).astype(int), cam.shape[1] - 1)
    c = np.clip(np.nan_to_num(cam[rows][:, cols]), 0, 1)
    colour = lut[(c * 255).astype(np.uint8)].astype(np.float32)
    alpha = (opacity * c)[..., None]
    return (thumb.astype(np.float32) * (1 - alpha) + colour * alpha).astype(np.uint8)
