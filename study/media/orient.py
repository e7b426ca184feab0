"""Turning frames upright: EXIF/TIFF Orientation codes and display rotations.

Frames are (N, H, W) or (N, H, W, C); axes 1 and 2 are rows and columns.
The eight Orientation codes (EXIF 2.3 / TIFF 6.0 tag 274) map to the same
transposes as Pillow's ``ImageOps.exif_transpose``, so a TIFF read through
tifffile turns exactly as a JPEG read through Pillow.
"""

from __future__ import annotations

import numpy as np

ORIENTATION_NAMES = {
    1: "top-left (as stored)",
    2: "mirrored left-right",
    3: "rotated 180",
    4: "mirrored top-bottom",
    5: "transposed",
    6: "rotated 90 clockwise",
    7: "transversed",
    8: "rotated 90 counter-clockwise",
}


def apply_orientation(frames: np.ndarray, code: int) -> np.ndarray:
    """Frames as a viewer honouring Orientation ``code`` shows them (1 or unknown: unchanged)."""
    if code == 2:
        return frames[:, :, ::-1]
    if code == 3:
        return frames[:, ::-1, ::-1]
    if code == 4:
        return frames[:, ::-1]
    if code == 5:
        return frames.swapaxes(1, 2)
    if code == 6:
        return np.rot90(frames, k=-1, axes=(1, 2))
    if code == 7:
        return frames[:, ::-1, ::-1].swapaxes(1, 2)
    if code == 8:
        return np.rot90(frames, k=1, axes=(1, 2))
    return frames


def rotate_ccw(frames: np.ndarray, degrees: int) -> np.ndarray:
    """Frames turned counter-clockwise by a multiple of 90 degrees (FFmpeg's display-matrix sense)."""
    k = round(degrees / 90.0) % 4
    return np.rot90(frames, k=k, axes=(1, 2)) if k else frames
