"""2-D photos and micrographs: PNG, JPEG, BMP, GIF through Pillow; TIFF through tifffile.

What comes out, and which library it equals (``tests/media/test_media_fidelity.py``
checks each against the library called directly):

* grey keeps its dtype (bool -> uint8 0/255; uint8, uint16, int, float) as
  (N, H, W); colour is uint8 RGB (N, H, W, 3), alpha and extra samples dropped;
* Pillow files: the frame converted as ``Image.convert("RGB")`` (palette,
  CMYK, YCbCr, LA/RGBA) or ``"L"`` (bilevel), turned upright by
  ``ImageOps.exif_transpose`` (phone photos carry EXIF Orientation);
* TIFF: tifffile with imagecodecs decodes every compression (LZW, deflate,
  JPEG, PackBits, zstd, JPEG 2000, ...); the photometric interpretation is
  honoured as Pillow honours it: PALETTE through the colour map (16-bit entries
  >> 8), MINISWHITE inverted, SEPARATED (CMYK) through Pillow's CMYK->RGB,
  YCbCr as decoded to RGB; the Orientation tag (274) turns it upright with the
  same transposes as ``exif_transpose``.  What tifffile cannot read (e.g.
  subsampled uncompressed YCbCr) is read by Pillow;
* pages: equal-sized pages of a multi-page TIFF or an animated GIF/PNG are
  frames; pages of another size (thumbnails, reduced resolutions) are left
  out and ``Media.decisions`` says so;
* colour deeper than 8 bits shows its top 8 bits (the display has 8 bits per
  channel); float colour in [0, 1] is scaled by 255;
* NaN/inf in float grey images stay NaN (inf too) and are counted in
  ``Media.nonfinite``: the viewer shows them as no value, a model refuses them.
"""

from __future__ import annotations

import os

import numpy as np
import tifffile
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from study.media.guard import check_size, fail, one_line, quiet, reraise_if_fatal
from study.media.orient import ORIENTATION_NAMES, apply_orientation
from study.media.sniff import TIFF_MAGIC, head
from study.media.types import Media, MediaError
from study.media.window import dtype_window, percentile_window

_GREY_MODES = {"L", "I;16", "I;16B", "I;16L", "I;16N", "I", "F"}
# No codec used for pictures packs more than ~1000:1 (deflate's ceiling is
# 1032:1, LZW's a few thousand); a header claiming more is corrupt, and
# decoding it anyway can take minutes of garbage strips.
_MAX_RATIO = 4000
_MAX_PAGES = 10_000

# TIFF photometric interpretations (TIFF 6.0, tag 262)
_MINISWHITE, _MINISBLACK, _RGB, _PALETTE, _SEPARATED, _YCBCR = 0, 1, 2, 3, 5, 6
_JPEG_COMPRESSIONS = {6, 7, 34892}


class _UsePillow(Exception):
    """tifffile read the file but its values need Pillow's interpretation."""


def load_image(path: str | os.PathLike[str]) -> Media:
    p = os.fspath(path)
    decisions: list[str] = []
    frames = _read_tiff(p, decisions) if head(p, 4) in TIFF_MAGIC else _read_pillow(p, decisions)
    nonfinite = 0
    if frames.dtype.kind == "f":
        finite = np.isfinite(frames)
        nonfinite = int(finite.size - np.count_nonzero(finite))
        if nonfinite:
            frames = np.where(finite, frames, np.nan).astype(frames.dtype, copy=False)
            decisions.append(f"{nonfinite} non-finite values (NaN/inf) kept as no value")
    if frames.ndim == 4:
        frames = _color_to_uint8(frames)
        window = None
    else:
        window = dtype_window(frames.dtype) or percentile_window(frames)
    return Media(frames=frames, kind="image", window=window, source=p, nonfinite=nonfinite, decisions=tuple(decisions))


# ---------------------------------------------------------------- Pillow


def _read_pillow(p: str, decisions: list[str]) -> np.ndarray:
    try:
        with quiet(), Image.open(p) as im:
            w, h = im.size
            n = int(getattr(im, "n_frames", 1) or 1)
            check_size(p, w * h * 4 * 2 * min(n, _MAX_PAGES), "the decoded image")
            _check_plausible(p, w * h * len(im.getbands()), f"{w} x {h}")
            code = _exif_code(im)
            arrays = []
            for frame in ImageSequence.Iterator(im):
                arrays.append(pillow_array(frame))
                if len(arrays) >= _MAX_PAGES:
                    break
    except MediaError:
        raise
    except Image.DecompressionBombError:
        raise fail(p, "image too large (decompression bomb guard)") from None
    except UnidentifiedImageError:
        raise fail(p, "unknown or corrupt image file") from None
    except OSError as exc:
        msg = str(exc)
        cause = "truncated image file" if "truncated" in msg.lower() else f"cannot decode image: {one_line(msg, 160)}"
        raise fail(p, cause) from None
    except (ValueError, SyntaxError, EOFError, KeyError, TypeError) as exc:
        raise fail(p, f"corrupt image file: {one_line(exc, 160)}") from None
    if code not in (None, 1):
        decisions.append(f"EXIF orientation {code} applied ({ORIENTATION_NAMES.get(code, 'unknown')})")
    same = [a for a in arrays if a.shape == arrays[0].shape and a.dtype == arrays[0].dtype]
    if n > 1:
        if len(same) < len(arrays):
            decisions.append(f"page 1 of {n} shown (the other pages differ in size or mode)")
            same = arrays[:1]
        else:
            decisions.append(f"{len(same)} pages shown as frames")
    return np.stack(same)


def _exif_code(im: Image.Image) -> int | None:
    try:
        return int(im.getexif().get(0x0112)) if im.getexif().get(0x0112) is not None else None
    except (TypeError, ValueError, SyntaxError, OSError):
        return None


def pillow_array(frame: Image.Image) -> np.ndarray:
    """One Pillow frame, upright and converted, as a native-endian array (H, W) or (H, W, 3)."""
    upright = ImageOps.exif_transpose(frame) or frame
    mode = upright.mode
    if mode in ("1", "LA", "La"):
        upright = upright.convert("L")
    elif mode not in _GREY_MODES and mode != "RGB":
        upright = upright.convert("RGB")  # P, PA, RGBA, CMYK, YCbCr, LAB, ...
    arr = np.asarray(upright)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


# ---------------------------------------------------------------- TIFF


def _read_tiff(p: str, decisions: list[str]) -> np.ndarray:
    try:
        with quiet(), tifffile.TiffFile(p) as tf:
            series = tf.series[0]
            page = series.keyframe
            shape, axes = tuple(series.shape), series.axes
            nbytes = int(np.prod(shape)) * series.dtype.itemsize
            check_size(p, nbytes, "the decoded image")
            _check_plausible(p, nbytes, " x ".join(map(str, shape)))
            photometric = int(page.photometric)
            if photometric == _YCBCR and int(page.compression) not in _JPEG_COMPRESSIONS:
                raise _UsePillow  # raw YCbCr (often subsampled): Pillow converts it to RGB
            if photometric not in (_MINISWHITE, _MINISBLACK, _RGB, _PALETTE, _SEPARATED, _YCBCR):
                raise _UsePillow
            arr = series.asarray()
            bits = int(page.bitspersample)
            colormap = page.tags.valueof(320) if photometric == _PALETTE else None
            inkset = int(page.tags.valueof(332, 1) or 1)
            code = int(page.tags.valueof(274, 1) or 1)
            n_series, n_pages = len(tf.series), len(tf.pages)
    except MediaError:
        raise
    except MemoryError:
        raise fail(p, "image too large to decode") from None
    except BaseException as exc:  # noqa: BLE001 - tifffile raises TiffFileError, ValueError, struct.error, ...
        reraise_if_fatal(exc)
        try:
            return _read_pillow(p, decisions)
        except MediaError:
            if isinstance(exc, _UsePillow):
                raise
        raise fail(p, f"cannot read TIFF: {one_line(exc, 160)}") from None
    frames = _tiff_frames(p, arr, axes)
    frames = _photometric(p, frames, photometric, bits, colormap, inkset, decisions)
    if code != 1:
        frames = np.ascontiguousarray(apply_orientation(frames, code))
        decisions.append(f"TIFF orientation {code} applied ({ORIENTATION_NAMES.get(code, 'unknown')})")
    if frames.shape[0] > 1:
        decisions.append(f"{frames.shape[0]} pages shown as frames")
    if n_series > 1:
        decisions.append(
            f"{n_pages - frames.shape[0]} further pages of another size or kind left out (thumbnails, reduced resolutions)"
        )
    return frames


def _photometric(
    p: str, frames: np.ndarray, photometric: int, bits: int, colormap: object, inkset: int, decisions: list[str]
) -> np.ndarray:
    """Stored samples to what Pillow shows: grey, or RGB with 3 samples."""
    samples = frames.shape[3] if frames.ndim == 4 else 1
    if photometric == _PALETTE:
        lut = np.asarray(colormap, dtype=np.uint16).reshape(3, -1)
        if int(lut.max()) > 255:
            lut = lut >> 8  # 16-bit entries, as the TIFF spec says and Pillow reads them
        else:
            decisions.append("colour map with 8-bit entries used as is")
        index = frames if frames.ndim == 3 else frames[..., 0]
        if index.dtype.kind not in "ub":
            raise fail(p, f"palette TIFF with {index.dtype} indices")
        return np.ascontiguousarray(lut.astype(np.uint8).T[np.minimum(index.astype(np.intp), lut.shape[1] - 1)])
    if photometric == _SEPARATED:
        if inkset != 1 or samples < 4:
            raise fail(p, f"separated TIFF with InkSet {inkset} and {samples} samples is not supported (only CMYK)")
        cmyk = frames[..., :4]
        if cmyk.dtype != np.uint8:
            cmyk = _color_to_uint8(cmyk, bits)
        return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(f), "CMYK").convert("RGB")) for f in cmyk])
    if frames.ndim == 4:
        if samples >= 3:
            frames = frames[..., :3]  # alpha / extra samples dropped
        else:
            frames = frames[..., 0]  # grey + alpha
    if frames.ndim == 4:
        return _color_to_uint8(np.ascontiguousarray(frames), bits)
    if frames.dtype == np.bool_:
        frames = frames.astype(np.uint8) * np.uint8(255)
        bits = 8
    if photometric == _MINISWHITE:
        decisions.append("MINISWHITE inverted (0 shown white)")
        if frames.dtype.kind == "u":
            top = (1 << bits) - 1 if bits < frames.dtype.itemsize * 8 else np.iinfo(frames.dtype).max
            frames = (np.asarray(top, dtype=frames.dtype) - frames).astype(frames.dtype)
        elif frames.dtype.kind == "i":
            frames = (-1 - frames).astype(frames.dtype)  # bitwise not: keeps the range
        else:
            frames = -frames
    return np.ascontiguousarray(frames)


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
        if arr.shape[-1] == 1:
            arr = arr[..., 0]
    else:
        arr = arr.reshape((-1, arr.shape[y], arr.shape[x]))
    if arr.dtype.kind == "c":
        raise fail(p, "complex-valued TIFF is not an image a reader can see")
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


def _color_to_uint8(arr: np.ndarray, bits: int | None = None) -> np.ndarray:
    """Colour samples to uint8: the top 8 of ``bits`` (default: the dtype's) bits, floats in [0, 1] x 255."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype.kind == "u":
        width = bits if bits and 8 < bits <= arr.dtype.itemsize * 8 else arr.dtype.itemsize * 8
        return np.minimum(arr >> (width - 8), 255).astype(np.uint8)
    if arr.dtype.kind == "f":
        finite = arr[np.isfinite(arr)]
        scale = 255.0 if finite.size == 0 or float(finite.max()) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0) * scale, 0, 255).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)
