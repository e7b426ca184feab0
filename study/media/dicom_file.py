"""One DICOM file (single- or multi-frame) to display-ready numpy.

Grey frames come out float32 in modality units (rescale slope/intercept or a
modality LUT applied, per frame for enhanced multi-frame objects), MONOCHROME1
inverted so that bright always means high.  Colour frames (RGB, YBR_*, palette)
come out uint8 RGB.  Only geometry, timing and the display window leave this
module; the dataset (names, IDs, dates, institution) is dropped here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, get_decoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from study.media import dicom_tags as tags
from study.media.buffers import POOL
from study.media.frame_order import enhanced_frame_order
from study.media.guard import check_size, fail, one_line, quiet, reraise_if_fatal
from study.media.types import Media
from study.media.window import percentile_window

_TRUNCATION_HINTS = ("end of file", "truncat", "less than expected", "fewer bytes")
# Pixel bytes of these syntaxes are plain little-endian arrays (deflate is undone at read).
_NATIVE_LE = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian})
_DECODER_OK: dict[str, bool] = {}


@dataclass
class Header:
    """What the series sorter needs from one file, read without decoding pixels."""

    ds: Dataset
    path: str
    truncated: bool


def read_header(path: str | os.PathLike[str]) -> Header:
    """Parse a DICOM file (pixel bytes kept raw, not decoded)."""
    p = os.fspath(path)
    try:
        size = os.path.getsize(p)
    except OSError as exc:
        raise fail(p, f"cannot open: {exc.strerror or exc}") from None
    check_size(p, size, "the file")  # parsing garbage of that size could take minutes
    try:
        with quiet() as caught:
            ds = dcmread(p, force=True)
    except MemoryError:
        raise fail(p, "file too large to read") from None
    except BaseException as exc:  # pydicom raises many types on garbage input
        reraise_if_fatal(exc)
        raise fail(p, f"not a readable DICOM file ({one_line(exc, 160)})") from None
    truncated = any(h in str(w.message).lower() for w in caught for h in _TRUNCATION_HINTS)
    return Header(ds=ds, path=p, truncated=truncated)


def check_pixels(h: Header) -> None:
    """Fail early, with the reason a reader would understand, before decoding."""
    ds, p = h.ds, h.path
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        if h.truncated:
            raise fail(p, "truncated file (ended before the pixel data)")
        sop = ds.get("SOPClassUID")
        what = f" ({UID(str(sop)).name})" if sop else ""
        raise fail(p, f"no pixel data{what}")
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if not rows or not cols:
        raise fail(p, "no image size (Rows/Columns missing)")
    frames = ds.get("NumberOfFrames")
    if frames not in (None, ""):
        try:
            int(frames)
        except (TypeError, ValueError):
            # Guessing 1 would silently drop the other frames of the pixel data.
            raise fail(
                p, f"invalid NumberOfFrames {str(frames)!r}: cannot tell how many frames the pixel data holds"
            ) from None
    bytes_per_pixel = 3 if tags.is_color(ds) else 4  # uint8 RGB or float32 grey out
    check_size(p, int(rows) * int(cols) * tags.n_frames_of(ds) * bytes_per_pixel, "the decoded image")
    meta = getattr(ds, "file_meta", None)
    tsyntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if tsyntax is None:
        _guess_transfer_syntax(h)
        return
    if tsyntax in _NATIVE_LE:
        return
    tsyntax = UID(str(tsyntax))
    if not _DECODER_OK.get(tsyntax, False):
        try:
            decoder = get_decoder(tsyntax)
        except NotImplementedError:
            label = tsyntax.name if tsyntax.name == str(tsyntax) else f"{tsyntax.name} ({tsyntax})"
            raise fail(p, f"unsupported transfer syntax {label}") from None
        if not decoder.is_available:
            raise fail(p, f"unsupported transfer syntax {tsyntax.name}: no decoder plugin installed")
        _DECODER_OK[tsyntax] = True


def _guess_transfer_syntax(h: Header) -> None:
    """Files without (0002,0010): native pixel data is decodable from the read encoding."""
    ds = h.ds
    raw = ds.get("PixelData")
    if isinstance(raw, (bytes, bytearray)) and raw[:4] == b"\xfe\xff\x00\xe0":
        raise fail(h.path, "compressed pixel data but no transfer syntax in the file meta")
    implicit, little = ds.original_encoding
    if implicit is None:
        implicit, little = True, True
    ds.file_meta = getattr(ds, "file_meta", None) or Dataset()
    ds.file_meta.TransferSyntaxUID = (
        ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    )


def decode(h: Header) -> np.ndarray:
    """Stored values as (N, H, W) or (N, H, W, 3); YBR already converted to RGB by pydicom."""
    ds, p = h.ds, h.path
    fast = _native_view(ds)
    if fast is not None:
        return fast
    try:
        with quiet():
            arr = ds.pixel_array
    except MemoryError:
        raise fail(p, "image too large to decode") from None
    except BaseException as exc:  # includes Rust decoder panics
        reraise_if_fatal(exc)
        msg = str(exc)
        low = msg.lower()
        if h.truncated or "less than expected" in low or "too short" in low:
            raise fail(p, "truncated file (pixel data shorter than the image size)") from None
        ts = ds.file_meta.get("TransferSyntaxUID")
        name = UID(str(ts)).name if ts else "pixel"
        if "no pixel data decoders" in low or "unsupported" in low:
            raise fail(p, f"unsupported transfer syntax {name}") from None
        # The per-plugin reasons follow a header line; the first reason is the useful one.
        lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
        detail = (
            lines[1]
            if len(lines) > 1 and "all available plugins" in lines[0]
            else (lines[0] if lines else type(exc).__name__)
        )
        raise fail(p, f"cannot decode {name} data: {one_line(detail, 160)}") from None
    n = tags.n_frames_of(ds)
    color = int(ds.get("SamplesPerPixel") or 1) == 3
    if (arr.ndim == 2 and not color) or (arr.ndim == 3 and color and n == 1):
        arr = arr[np.newaxis]
    if arr.ndim != (4 if color else 3):
        raise fail(p, f"unexpected pixel array shape {arr.shape}")
    return arr


def _native_view(ds: Dataset) -> np.ndarray | None:
    """Zero-copy view of plain single-frame grey pixel bytes, or None to let pydicom decode.

    pydicom's general decoder costs ~0.4 ms per slice in bookkeeping, a third of a
    series load.  Only the trivially safe case is taken here: little-endian,
    one sample, 8/16/32 bits allocated, and no sign bit hidden below the
    allocated width (that needs pydicom's sign extension).
    """
    meta = getattr(ds, "file_meta", None)
    if meta is None or meta.get("TransferSyntaxUID") not in _NATIVE_LE:
        return None
    try:
        spp = int(ds.get("SamplesPerPixel") or 1)
        allocated, stored = int(ds.BitsAllocated), int(ds.get("BitsStored") or ds.BitsAllocated)
        signed = int(ds.get("PixelRepresentation") or 0) == 1
        rows, cols = int(ds.Rows), int(ds.Columns)
        raw = ds.get("PixelData")
    except (AttributeError, TypeError, ValueError):
        return None
    if spp != 1 or tags.n_frames_of(ds) != 1 or allocated not in (8, 16, 32) or (signed and stored != allocated):
        return None
    if not isinstance(raw, (bytes, bytearray)) or len(raw) < rows * cols * allocated // 8:
        return None  # pydicom reports the truncation in its own words
    dtype = np.dtype(f"<{'i' if signed else 'u'}{allocated // 8}")
    view = np.frombuffer(raw, dtype=dtype, count=rows * cols).reshape(1, rows, cols)
    if 0 < stored < allocated:
        # Unused high bits may carry an overlay (old scanners burn it in there):
        # keep the BitsStored low bits, as pydicom's pixel_array does.
        return np.bitwise_and(view, dtype.type((1 << stored) - 1))
    return view


def to_gray(raw: np.ndarray, ds: Dataset, out: np.ndarray | None = None) -> np.ndarray:
    """Modality values as float32, MONOCHROME1 inverted; writes into ``out`` when given."""
    if out is None:
        out = POOL.empty(raw.shape, np.float32)
    if "ModalityLUTSequence" in ds:
        np.copyto(out, apply_modality_lut(raw, ds), casting="unsafe")
    elif "PerFrameFunctionalGroupsSequence" in ds and len(raw) > 1:
        for i in range(len(raw)):
            slope, intercept = tags.rescale(ds, i)
            _affine(raw[i], slope, intercept, out[i])
    else:
        slope, intercept = tags.rescale(ds, 0)
        _affine(raw, slope, intercept, out)
    if str(ds.get("PhotometricInterpretation", "")).strip().upper() == "MONOCHROME1":
        lo, hi = monochrome1_pivot(ds)
        np.subtract(lo + hi, out, out=out)
    return out


def _affine(raw: np.ndarray, slope: float, intercept: float, out: np.ndarray) -> None:
    # One pass when there is no slope: a cast-and-add; two otherwise.  No temporaries.
    if slope == 1.0:
        np.add(raw, np.float32(intercept), out=out, casting="unsafe")
    else:
        np.multiply(raw, np.float32(slope), out=out, casting="unsafe")
        if intercept:
            out += np.float32(intercept)


def monochrome1_pivot(ds: Dataset) -> tuple[float, float]:
    """Modality range whose ends swap under MONOCHROME1 inversion."""
    s_lo, s_hi = tags.stored_range(ds)
    slope, intercept = tags.rescale(ds, 0)
    a, b = s_lo * slope + intercept, s_hi * slope + intercept
    return min(a, b), max(a, b)


def to_color(raw: np.ndarray, ds: Dataset) -> np.ndarray:
    """uint8 RGB frames; palette colour looked up, deeper samples scaled down."""
    pi = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if pi == "PALETTE COLOR":
        raw = apply_color_lut(raw, ds)
    if raw.dtype == np.uint8:
        return raw
    bits = raw.dtype.itemsize * 8
    if pi != "PALETTE COLOR":
        bits = int(ds.get("BitsStored") or bits)
    shift = max(bits - 8, 0)
    data = raw.astype(raw.dtype.newbyteorder("="), copy=False)
    if data.dtype.kind == "i":
        data = np.clip(data, 0, None)
    return (data >> shift).astype(np.uint8) if shift else data.astype(np.uint8)


def display_window(ds: Dataset, gray: np.ndarray) -> tuple[float, float]:
    """Tag window (in modality units, mirrored for MONOCHROME1), else 1st-99th percentile."""
    w = tags.tag_window(ds)
    if w is None:
        return percentile_window(gray)
    center, width = w
    if str(ds.get("PhotometricInterpretation", "")).strip().upper() == "MONOCHROME1":
        lo, hi = monochrome1_pivot(ds)
        center = lo + hi - center
    return center, width


def load_dicom_file(path: str | os.PathLike[str]) -> Media:
    h = read_header(path)
    check_pixels(h)
    return media_of(h, decode(h), h.path, "dicom")


def media_of(h: Header, raw: np.ndarray, source: str, single_kind: str) -> Media:
    """Decoded stored values of one file to a ``Media``; enhanced multi-frame frames in anatomical order."""
    ds = h.ds
    n = raw.shape[0]
    color = tags.is_color(ds)
    frames = to_color(raw, ds) if color else to_gray(raw, ds)
    fo = enhanced_frame_order(ds, n)
    if not fo.is_stored_order:
        frames = frames[list(fo.order)]
    positions = fo.positions if fo.positions is not None else (tags.frame_positions(ds, n) if n > 1 else None)
    nonfinite = 0
    decisions = [fo.decision] if fo.decision else []
    if raw.dtype.kind == "f":  # Float Pixel Data may carry NaN/inf: kept as no value, counted
        finite = np.isfinite(frames)
        nonfinite = int(finite.size - np.count_nonzero(finite))
        if nonfinite:
            frames = np.where(finite, frames, np.float32(np.nan)).astype(np.float32)
            decisions.append(f"{nonfinite} non-finite values (NaN/inf) kept as no value")
    window = None if color else display_window(ds, frames)
    times = tags.frame_times(ds, n) if n > 1 else None
    return Media(
        frames=frames,
        kind="multiframe" if n > 1 else single_kind,
        spacing=tags.pixel_spacing(ds),
        spacing_known=tags.known_pixel_spacing(ds) is not None,
        slice_positions=positions,
        frame_of_reference=tags.frame_of_reference(ds),
        window=window,
        fps=tags.frame_rate(ds) if n > 1 else None,
        source=source,
        slice_spacing=(tags.median_step(positions) or tags.slice_spacing_tag(ds)) if n > 1 else None,
        slice_normal=(fo.normal or _normal_tuple(tags.orientation(ds))) if n > 1 else None,
        frame_times=None if times is None else tuple(times[i] for i in fo.order) if fo.is_stored_order else None,
        frame_windows=None if color else _frame_windows(ds, fo.order),
        nonfinite=nonfinite,
        decisions=tuple(decisions),
    )


def _normal_tuple(normal: np.ndarray | None) -> tuple[float, float, float] | None:
    return None if normal is None else (float(normal[0]), float(normal[1]), float(normal[2]))


def _frame_windows(ds: Dataset, order: tuple[int, ...]) -> tuple[tuple[float, float], ...] | None:
    """Per-frame tag windows in shown order when they differ between frames, else None."""
    if len(order) < 2 or "PerFrameFunctionalGroupsSequence" not in ds:
        return None
    windows = [tags.frame_window(ds, i) for i in order]
    if any(w is None for w in windows) or len(set(windows)) < 2:
        return None
    if str(ds.get("PhotometricInterpretation", "")).strip().upper() == "MONOCHROME1":
        lo, hi = monochrome1_pivot(ds)
        return tuple((lo + hi - c, w) for c, w in windows)  # type: ignore[misc]
    return tuple(windows)  # type: ignore[arg-type]
