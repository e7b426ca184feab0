"""A region answer: a binary mask on the image a reader sees, as plain data.

The contract shared by the reading screen (which draws it), the store (which
keeps it, never as a path to a loose file), the AI (whose segmentation head
proposes one) and the statistics (Dice, IoU, HD95, area).  A mask is a numpy
bool array: (H, W) on a 2-D image, (N, H, W) on a series (one plane per slice,
empty planes where nothing was drawn).  Stored as a PNG (one 1-bit page per
slice, stacked vertically) because PNG is lossless, compact for masks and
readable by any tool a statistician has.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from study.media.types import Media


@dataclass(frozen=True)
class Region:
    """One delineated region.

    mask: bool, (H, W) or (N, H, W), in the pixel grid of the image shown.
    spacing_mm: (row, column) pixel spacing in mm, or None when unknown
        (then areas are only given in pixels).
    """

    mask: np.ndarray
    spacing_mm: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.mask.dtype != bool or self.mask.ndim not in (2, 3):
            raise ValueError(f"a region mask is a 2-D or 3-D bool array, got {self.mask.dtype} {self.mask.shape}")

    @property
    def pixels(self) -> int:
        """Number of pixels inside the region (all slices)."""
        return int(self.mask.sum())

    @property
    def area_mm2(self) -> float | None:
        """Area in mm² (summed over slices); None without pixel spacing."""
        if self.spacing_mm is None:
            return None
        return float(self.pixels * self.spacing_mm[0] * self.spacing_mm[1])


@dataclass(frozen=True)
class RegionRead:
    """One submitted region read, as the statistics see it (no ORM rows).

    mask: bool (H, W) or (N, H, W); spacing_mm: (row, column) mm or None.
    accepted_unchanged: aided reads only: the AI's contour submitted as is
        (None in unaided reads).  edit_ms / edit_count: time spent and number
        of edits on the region.  likelihood: the combined question's answer
        (e.g. glaucoma 0-100), None when the task has none.
    """

    reader: str
    group: str
    session: int
    mode: str
    case_id: str
    mask: np.ndarray
    spacing_mm: tuple[float, float] | None
    accepted_unchanged: bool | None
    edit_ms: int
    edit_count: int
    likelihood: float | None


def encode_mask(mask: np.ndarray) -> bytes:
    """A bool mask (H, W) or (N, H, W) as PNG bytes (1-bit; slices stacked vertically).

    The slice count is kept in the PNG's text chunk so (1, H, W) and (H, W)
    round-trip to their own shapes.  Raises ValueError for anything but a
    2-D/3-D bool array.
    """
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.ndim not in (2, 3):
        raise ValueError(f"encode_mask: a 2-D or 3-D bool array is needed, got {mask.dtype} {mask.shape}")
    slices = 0 if mask.ndim == 2 else mask.shape[0]
    flat = mask if mask.ndim == 2 else mask.reshape(-1, mask.shape[-1])
    if flat.size == 0:
        raise ValueError(f"encode_mask: empty shape {mask.shape}")
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("readerstudy.slices", str(slices))
    buf = io.BytesIO()
    Image.fromarray(flat).convert("1").save(buf, format="PNG", pnginfo=info, optimize=True)
    return buf.getvalue()


def decode_mask(data: bytes) -> np.ndarray:
    """The bool mask that ``encode_mask`` wrote; ValueError if ``data`` is not such a PNG."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            slices = int(im.text.get("readerstudy.slices", "0"))
            flat = np.asarray(im.convert("1"), dtype=bool)
    except (OSError, ValueError) as exc:
        raise ValueError(f"not a stored region mask: {exc}") from exc
    if slices == 0:
        return flat
    if flat.shape[0] % slices:
        raise ValueError(f"stored region mask of {flat.shape[0]} rows does not split into {slices} slices")
    return flat.reshape(slices, flat.shape[0] // slices, flat.shape[1])


def read_mask_file(path: str | Path) -> np.ndarray:
    """A truth mask from a file: bool (H, W), or (N, H, W) from a ``.npy`` stack.

    PNG/TIFF/JPEG: any non-zero pixel (of any channel) is inside.  ``.npy``: a
    bool or 0/1 array.  Raises ValueError naming the file and the cause.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            with Image.open(path) as im:
                arr = np.asarray(im)
                if arr.ndim == 3:
                    arr = arr.any(axis=-1)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable mask: {exc}") from exc
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ValueError(f"{path}: a mask is a 2-D image (or an (N, H, W) .npy stack), got shape {arr.shape}")
    if arr.dtype != bool:
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"{path}: mask values must be numbers, got {arr.dtype}")
        arr = arr != 0
    return arr


def ai_region_mask(probabilities: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The AI's region: segmentation probabilities (N, h, w) or (h, w) in [0, 1], resampled
    (bilinear) to the image's (H, W) and cut at 0.5; bool (N, H, W) with N as given."""
    p = np.asarray(probabilities, dtype=np.float32)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3:
        raise ValueError(f"segmentation probabilities must be (N, h, w), got {p.shape}")
    h, w = shape[-2:]
    out = np.empty((p.shape[0], h, w), dtype=bool)
    for k, plane in enumerate(p):
        if plane.shape != (h, w):
            plane = np.asarray(Image.fromarray(np.nan_to_num(plane)).resize((w, h), Image.Resampling.BILINEAR))
        out[k] = plane >= 0.5
    return out


# Volumes from 1 mL up are given in mL, smaller ones in mm³: a 15 mm³ lesion would read as
# "0.015 mL" (the report and the reading screen's live volume share the rule).
ML_FROM_MM3 = 1000.0


def volume_text(mm3: float) -> str:
    """A volume for people: "2.35 mL" from 1 mL up, else "31.25 mm³"."""
    return f"{mm3 / ML_FROM_MM3:.2f} mL" if mm3 >= ML_FROM_MM3 else f"{mm3:.2f} mm\u00b3"


class NoVolumeError(ValueError):
    """A series has no voxel spacing for a volume.  The message names the series and the cause;
    ``why`` is the cause in a few words, for a label ("uneven slice spacing")."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


# Neighbouring slice steps may differ by this fraction of their median (rounding of the
# positions' decimal strings, oblique planes projected on the normal) and still be one spacing;
# a missing slice or a variable-spacing acquisition differs by far more.
SLICE_STEP_TOLERANCE = 0.01


def frames_are_times(media: Media) -> bool:
    """The frames follow each other in time (a video, a cine with a frame rate or frame times), not
    in space: a region drawn on them is no volume, and is scored frame by frame as images are."""
    return media.kind == "video" or media.fps is not None or media.frame_times is not None


def series_voxel_mm(media: Media, spacing_mm: float | None = None) -> tuple[float, float, float]:
    """(slice, row, column) voxel spacing in mm of a series, for volumes and 3-D distances.

    The slice spacing is the step between neighbouring slices' ImagePositionPatient along the
    slice normal (``media.slice_positions``), never SliceThickness: slices may overlap or have
    gaps, and a thickness of 5 mm at a 6 mm step would shrink every volume by a sixth.  The
    pixel spacing is ``spacing_mm`` (the study's ``[task] spacing_mm``, which wins in reading
    too) or the DICOM's own.  Raises ValueError naming ``media.source`` when the positions are
    missing, fewer than two, or unevenly spaced (a missing slice?), or when no pixel spacing is
    known: a volume would be a guess.
    """
    where = media.source or "the series"
    positions = media.slice_positions
    if positions is None or len(positions) < 2:
        n = media.n_frames
        raise NoVolumeError(
            f"{where}: no slice spacing for a volume: "
            + (
                "one slice only"
                if n < 2
                else f"the {n} slices have no distinct positions along their normal (ImagePositionPatient / "
                "ImageOrientationPatient missing, or all at one place)"
            )
            + " (SliceThickness is not the distance between slices)",
            "one slice only" if n < 2 else "no slice positions",
        )
    steps = np.diff(np.asarray(positions, dtype=np.float64))
    step = float(np.median(steps))
    if step <= 0 or np.max(np.abs(steps - step)) > SLICE_STEP_TOLERANCE * step:
        raise NoVolumeError(
            f"{where}: slices are not evenly spaced along their normal (steps {steps.min():.4g} to "
            f"{steps.max():.4g} mm; a missing slice?): one volume needs one slice spacing",
            "uneven slice spacing",
        )
    if spacing_mm is not None:
        row, col = float(spacing_mm), float(spacing_mm)
    elif media.spacing_known:
        row, col = (float(v) for v in media.spacing)
    else:
        raise NoVolumeError(
            f"{where}: no pixel spacing (PixelSpacing) for a volume in mm³: give it as [task] spacing_mm in study.toml",
            "pixel size unknown",
        )
    return step, row, col


def case_voxel_mm(media: Media, mask_slices: int, spacing_mm: float | None = None) -> tuple[float, float, float] | None:
    """The voxel spacing of a region of ``mask_slices`` planes on ``media`` when it is a volume, else None.

    None for a 2-D image (one plane) and for frames in time (``frames_are_times``: a volume of
    a video is no volume); a series: ``series_voxel_mm`` (NoVolumeError when it has none).
    """
    if mask_slices < 2 or frames_are_times(media):
        return None
    return series_voxel_mm(media, spacing_mm)
