"""2-D photos and micrographs: PNG, JPEG, BMP, GIF through Pillow; TIFF through tifffile.

Grey images keep their dtype (uint8, uint16, float) as (1, H, W); colour comes
out uint8 RGB (1, H, W, 3), alpha dropped.  Smartphone photos are turned
upright from their EXIF orientation so a conjunctiva is never shown sideways.
A multi-page TIFF of equal pages becomes several frames.
"""

from __future__ import annotations

import os

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from study.media.guard import check_size, fail, one_line, quiet, reraise_if_fatal
from study.media.sniff import TIFF_MAGIC, head
from study.media.types import Media, MediaError
from study.media.window import dtype_window, percentile_window

_GREY_MODES = {"L", "I;16", "I;16B", "I;16L", "I;16N", "I", "F"}
# No codec used for pictures packs more than ~1000:1 (deflate's ceiling is
# 1032:1, LZW's a few thousand); a header claiming more is corrupt, and
# decoding it anyway can take minutes of garbage strips.
_MAX_RATIO = 4000


def load_image(path: str | os.PathLike[str]) -> Media:
    p = os.fspath(path)
    frames = _read_tiff(p) if head(p, 4) in TIFF_MAGIC else _read_pillow(p)
    if frames.ndim == 4:
        frames = _color_to_uint8(frames)
        window = None
    else:
        window = dtype_window(frames.dtype) or percentile_window(frames)
    return Media(frames=frames, kind="image", window=window, source=p)


def _read_pillow(p: str) -> np.ndarray:
    try:
        with quiet(), Image.open(p) as im:
            w, h = im.size
            check_size(p, w * h * 4 * 2, "the decoded image")
            _check_plausible(p, w * h * len(im.getbands()), f"{w} x {h}")
            im.load()
            upright = ImageOps.exif_transpose(im) or im
            mode = upright.mode
            if mode in ("1", "LA"):
                upright, mode = upright.convert("L"), "L"
            elif mode not in _GREY_MODES and mode != "RGB":
                upright, mode = upright.convert("RGB"), "RGB"  # P, RGBA, CMYK, YCbCr, ...
            arr = np.asarray(upright)
    except Image.DecompressionBombError:
        raise fail(p, "image too large (decompression bomb guard)") from None
    except UnidentifiedImageError:
        raise fail(p, "unknown or corrupt image file") from None
    except OSError as exc:
        msg = str(exc)
        cause = "truncated image file" if "truncated" in msg.lower() else f"cannot decode image: {one_line(msg, 160)}"
        raise fail(p, cause) from None
    except (ValueError, SyntaxError, EOFError) as exc:
        raise fail(p, f"corrupt image file: {one_line(exc, 160)}") from None
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr[np.newaxis]


def _read_tiff(p: str) -> np.ndarray:
    try:
        with quiet(), tifffile.TiffFile(p) as tf:
            series = tf.series[0]
            shape, axes = tuple(series.shape), series.axes
            nbytes = int(np.prod(shape)) * series.dtype.itemsize
            check_size(p, nbytes, "the decoded image")
            _check_plausible(p, nbytes, " x ".join(map(str, shape)))
            arr = series.asarray()
    except MediaError:
        raise
    except MemoryError:
        raise fail(p, "image too large to decode") from None
    except BaseException as exc:  # tifffile raises TiffFileError, ValueError, struct.error, ...
        reraise_if_fatal(exc)
        raise fail(p, f"cannot read TIFF: {one_line(exc, 160)}") from None
    return _tiff_frames(p, arr, axes)


def _check_plausible(p: str, decoded_bytes: int, what: str) -> None:
    size = os.path.getsize(p)
    if decoded_bytes > _MAX_RATIO * size + (1 << 20):
        raise fail(p, f"corrupt image: the header claims {what} pixels, far more than a {size}-byte file can hold")


def _tiff_frames(p: str, arr: np.ndarray, axes: str) -> np.ndarray:
    """Reorder tifffile's axes into (N, H, W) or (N, H, W, S)."""
    if "Y" not in axes or "X" not in axes:
        raise fail(p, f"TIFF without image axes ({axes})")
    if "S" in axes:
        arr = np.moveaxis(arr, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    y, x = axes.index("Y"), axes.index("X")
    if "S" in axes:
        arr = arr.reshape((-1, arr.shape[y], arr.shape[x], arr.shape[-1]))
        samples = arr.shape[-1]
        if samples in (3, 4):
            arr = arr[..., :3]
        elif samples in (1, 2):
            arr = arr[..., 0]
        else:
            raise fail(p, f"TIFF with {samples} samples per pixel is not supported")
    else:
        arr = arr.reshape((-1, arr.shape[y], arr.shape[x]))
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


def _color_to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "u":
        return (arr >> (arr.dtype.itemsize * 8 - 8)).astype(np.uint8)
    if arr.dtype.kind == "f":
        scale = 255.0 if float(np.nanmax(arr)) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(arr) * scale, 0, 255).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)
