"""Reading geometry, timing and display tags of a DICOM dataset, defensively.

Every helper returns a sane default or None on a missing or malformed value:
a bad tag must degrade the display (1 mm pixels, no sync), never block it.
Enhanced multi-frame objects keep these values in functional-group macros,
looked up per frame first, then shared.
"""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset


def _first(value: object) -> object:
    """First item of a multi-valued element (WindowCenter may hold several presets)."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return value[0] if len(value) else None  # type: ignore[index,arg-type]
    return value


def _float(value: object) -> float | None:
    try:
        v = float(_first(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, IndexError):
        return None
    return v if math.isfinite(v) else None


def raw_numbers(ds: Dataset, keyword: str) -> tuple[float, ...] | None:
    """A DS/IS element's numbers parsed straight from the file bytes, or None if absent.

    pydicom's validated conversion costs ~30 us per element; for the four
    numbers read from every slice of a series that is a tenth of the load.
    """
    try:
        elem = ds.get_item(keyword)
    except (KeyError, ValueError, TypeError):
        return None
    if elem is None:
        return None
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).strip(b" \x00")
        if not text:
            return None
        try:
            return tuple(float(v) for v in text.split(b"\\"))
        except ValueError:
            pass  # let pydicom interpret (and warn about) the odd value
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            return tuple(float(v) for v in value)
        return (float(value),)
    except (TypeError, ValueError):
        return None


def _fg_item(ds: Dataset, seq: str, frame: int | None = None) -> Dataset | None:
    """An item of a functional-group macro (enhanced multi-frame), per-frame first."""
    groups = []
    if frame is not None and "PerFrameFunctionalGroupsSequence" in ds:
        per_frame = ds.PerFrameFunctionalGroupsSequence
        if frame < len(per_frame):
            groups.append(per_frame[frame])
    if "SharedFunctionalGroupsSequence" in ds and len(ds.SharedFunctionalGroupsSequence):
        groups.append(ds.SharedFunctionalGroupsSequence[0])
    for g in groups:
        if seq in g and len(g[seq].value):
            return g[seq].value[0]
    return None


def pixel_spacing(ds: Dataset) -> tuple[float, float]:
    """(row_mm, col_mm): PixelSpacing, ImagerPixelSpacing, pixel-measures macro, ultrasound regions."""
    return known_pixel_spacing(ds) or (1.0, 1.0)


def known_pixel_spacing(ds: Dataset) -> tuple[float, float] | None:
    """The spacing the dataset declares (as :func:`pixel_spacing`), or None when it declares none:
    areas in mm are then unknown, not 1 mm pixels."""
    sources: list[object] = [ds.get("PixelSpacing"), ds.get("ImagerPixelSpacing")]
    item = _fg_item(ds, "PixelMeasuresSequence", 0)
    if item is not None:
        sources.insert(0, item.get("PixelSpacing"))
    for value in sources:
        try:
            r, c = (float(v) for v in value)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            continue
        if r > 0 and c > 0 and math.isfinite(r) and math.isfinite(c):
            return r, c
    return _ultrasound_spacing(ds)


def _ultrasound_spacing(ds: Dataset) -> tuple[float, float] | None:
    """Ultrasound has no PixelSpacing: the first calibrated region gives it, in cm (units code 3)."""
    regions = ds.get("SequenceOfUltrasoundRegions")
    if not regions:
        return None
    for region in regions:
        if region.get("PhysicalUnitsXDirection") == 3 and region.get("PhysicalUnitsYDirection") == 3:
            dx, dy = _float(region.get("PhysicalDeltaX")), _float(region.get("PhysicalDeltaY"))
            if dx and dy and dx > 0 and dy > 0:
                return abs(dy) * 10.0, abs(dx) * 10.0
    return None


def slice_spacing_tag(ds: Dataset) -> float | None:
    item = _fg_item(ds, "PixelMeasuresSequence", 0)
    for src in (item, ds):
        if src is None:
            continue
        for key in ("SpacingBetweenSlices", "SliceThickness"):
            v = _float(src.get(key))
            if v is not None and v > 0:
                return v
    return None


def normal_from_iop(value: object) -> np.ndarray | None:
    """Unit slice normal (row x column direction) from ImageOrientationPatient's six numbers, or None
    when they are missing, not six finite numbers, or parallel (DICOM PS3.3 C.7.6.2.1.1)."""
    try:
        iop = np.array([float(v) for v in value], dtype=np.float64)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if iop.shape != (6,) or not np.all(np.isfinite(iop)):
        return None
    normal = np.cross(iop[:3], iop[3:])
    norm = float(np.linalg.norm(normal))
    return normal / norm if norm > 1e-6 else None


def orientation(ds: Dataset, frame: int | None = None) -> np.ndarray | None:
    """Slice normal: row direction x column direction (DICOM PS3.3 C.7.6.2.1.1)."""
    value: object = raw_numbers(ds, "ImageOrientationPatient")
    if value is None:
        item = _fg_item(ds, "PlaneOrientationSequence", frame)
        value = item.get("ImageOrientationPatient") if item is not None else None
    return normal_from_iop(value)


def position(ds: Dataset, frame: int | None = None) -> np.ndarray | None:
    value: object = raw_numbers(ds, "ImagePositionPatient") if frame is None else None
    if value is None:
        item = _fg_item(ds, "PlanePositionSequence", frame)
        value = item.get("ImagePositionPatient") if item is not None else raw_numbers(ds, "ImagePositionPatient")
    try:
        ipp = np.array([float(v) for v in value], dtype=np.float64)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return ipp if ipp.shape == (3,) and np.all(np.isfinite(ipp)) else None


def frame_of_reference(ds: Dataset) -> str | None:
    uid = ds.get("FrameOfReferenceUID")
    return str(uid) if uid else None


def frame_rate(ds: Dataset) -> float | None:
    """Cine rate of a multi-frame object in frames per second."""
    for key in ("CineRate", "RecommendedDisplayFrameRate"):
        v = _float(ds.get(key))
        if v is not None and v > 0:
            return v
    ms = _float(ds.get("FrameTime"))
    if ms is not None and ms > 0:
        return 1000.0 / ms
    return None


def _first_number(ds: Dataset, keyword: str) -> float | None:
    values = raw_numbers(ds, keyword)
    if not values or not math.isfinite(values[0]):
        return None
    return values[0]


def rescale(ds: Dataset, frame: int | None = None) -> tuple[float, float]:
    """(slope, intercept) from the image or the pixel-value-transformation macro."""
    slope, intercept = _first_number(ds, "RescaleSlope"), _first_number(ds, "RescaleIntercept")
    if slope is None and intercept is None:
        item = _fg_item(ds, "PixelValueTransformationSequence", frame)
        if item is not None:
            slope, intercept = _float(item.get("RescaleSlope")), _float(item.get("RescaleIntercept"))
    return (slope if slope not in (None, 0.0) else 1.0), (intercept if intercept is not None else 0.0)  # type: ignore[return-value]


def tag_window(ds: Dataset) -> tuple[float, float] | None:
    """First WindowCenter/WindowWidth pair from the image or the frame-VOI macro."""
    sources: list[Dataset | None] = [ds, _fg_item(ds, "FrameVOILUTSequence", 0)]
    for src in sources:
        if src is None:
            continue
        c, w = _float(src.get("WindowCenter")), _float(src.get("WindowWidth"))
        if c is not None and w is not None and w > 0:
            return c, w
    return None


def stored_range(ds: Dataset) -> tuple[float, float]:
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 16)
    if int(ds.get("PixelRepresentation") or 0) == 1:
        return -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1
    return 0.0, 2.0**bits - 1


def n_frames_of(ds: Dataset) -> int:
    try:
        n = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        n = 1
    return max(n, 1)


def is_color(ds: Dataset) -> bool:
    pi = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    return int(ds.get("SamplesPerPixel") or 1) == 3 or pi == "PALETTE COLOR"


def frame_positions(ds: Dataset, n: int) -> tuple[float, ...] | None:
    """Per-frame position along the normal for enhanced multi-frame volumes."""
    if "PerFrameFunctionalGroupsSequence" not in ds or len(ds.PerFrameFunctionalGroupsSequence) < n:
        return None
    normal = orientation(ds, 0)
    if normal is None:
        return None
    out = []
    for i in range(n):
        ipp = position(ds, i)
        if ipp is None:
            return None
        out.append(float(normal @ ipp))
    return tuple(out)


def median_step(positions: tuple[float, ...] | None) -> float | None:
    """Typical distance between neighbouring slices, ignoring repeats (multi-echo, cine)."""
    if positions is None or len(positions) < 2:
        return None
    steps = np.abs(np.diff(np.sort(np.asarray(positions))))
    steps = steps[steps > 1e-6]
    return float(np.median(steps)) if steps.size else None


def frame_window(ds: Dataset, frame: int) -> tuple[float, float] | None:
    """(center, width) of one frame's Frame VOI LUT macro (enhanced multi-frame), else None."""
    item = _fg_item(ds, "FrameVOILUTSequence", frame)
    if item is None:
        return None
    c, w = _float(item.get("WindowCenter")), _float(item.get("WindowWidth"))
    return (c, w) if c is not None and w is not None and w > 0 else None


def frame_normal(ds: Dataset, frame: int) -> np.ndarray | None:
    """Slice normal of one frame: its own PlaneOrientationSequence first, then shared, then the top level."""
    item = _fg_item(ds, "PlaneOrientationSequence", frame)
    value = item.get("ImageOrientationPatient") if item is not None else None
    if value is None:
        return orientation(ds)
    return normal_from_iop(value)


def frame_times(ds: Dataset, n: int) -> tuple[float, ...] | None:
    """Seconds from the first frame: FrameTimeVector (ms increments, PS3.3 C.7.6.5), else FrameTime."""
    vector = raw_numbers(ds, "FrameTimeVector")
    if vector is not None and len(vector) == n and all(math.isfinite(v) and v >= 0 for v in vector):
        steps = np.asarray(vector, dtype=np.float64)
        steps[0] = 0.0
        return tuple(float(t) for t in np.cumsum(steps) / 1000.0)
    ms = _float(ds.get("FrameTime"))
    if ms is not None and ms > 0:
        return tuple(i * ms / 1000.0 for i in range(n))
    return None
