"""Default display window (center, width) when the file gives none."""

from __future__ import annotations

import numpy as np

# Percentiles of ~65k strided samples match those of an 80M-voxel volume to display precision.
_SAMPLE = 1 << 16


def percentile_window(frames: np.ndarray, lo: float = 1.0, hi: float = 99.0) -> tuple[float, float]:
    """(center, width) spanning the lo..hi percentiles of a strided sample of the frames."""
    flat = frames.reshape(-1)
    step = max(1, flat.size // _SAMPLE)
    sample = flat[::step]
    sample = sample[np.isfinite(sample)] if sample.dtype.kind == "f" else sample
    if sample.size == 0:
        return 0.0, 1.0
    p_lo, p_hi = (float(v) for v in np.percentile(sample, [lo, hi]))
    if p_hi <= p_lo:  # flat image or binary mask: fall back to the full range
        p_lo, p_hi = float(sample.min()), float(sample.max())
    width = p_hi - p_lo
    if width <= 0:
        width = 1.0
    return (p_lo + p_hi) / 2.0, width


def dtype_window(dtype: np.dtype) -> tuple[float, float] | None:
    """Full range of an 8-bit image, which is how a photo is meant to be seen."""
    if np.dtype(dtype) == np.uint8:
        return 127.5, 255.0
    return None
