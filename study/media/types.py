"""What the media layer hands to everyone else: plain numpy in frozen dataclasses.

No Qt, no torch, no identifying DICOM tags.  A 2-D photo is a one-frame
``Media``; a DICOM series, a multi-frame file and a video are many frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Media:
    """One viewable item of a case (one role of the hanging protocol).

    frames: (N, H, W) for grayscale or (N, H, W, 3) uint8 for colour.  Grayscale
        DICOM frames are float32 in modality units (rescale applied, MONOCHROME1
        already inverted); photos keep their dtype.  ``study.media.load`` returns
        read-only frames (one Media may be shared through ``MediaCache``): copy
        before changing them, e.g. ``frames.astype(np.float32)``.
    kind: "image" | "dicom" | "series" | "multiframe" | "video" | "wsi" (a whole-slide
        image: frames hold its thumbnail, ``source`` the slide for ``study.media.wsi``).
    spacing: (row_mm, col_mm) pixel spacing; (1.0, 1.0) when unknown.
    spacing_known: the file declares ``spacing`` (DICOM PixelSpacing and its kin, a
        slide's mpp); False: (1.0, 1.0) is only a display default, no measurement, so
        areas and lengths are given in pixels.
    slice_positions: position of each frame along the slice normal in mm
        (series only), used to synchronize series sharing a frame of reference.
    frame_of_reference: opaque FrameOfReferenceUID, or None.
    window: default (center, width) for display, or None for colour images.
    fps: frames per second for video and cine multi-frame, else None.
    source: the file or folder it was read from (for error messages only; never
        shown to readers).
    slice_spacing: distance between slice centres in mm (series and enhanced
        multi-frame volumes), else None.  With ``spacing`` it gives the voxel
        aspect for through-plane views.
    slice_normal: unit normal of the slice plane in patient coordinates (series
        and multi-frame volumes), else None.  Two series sharing a frame of
        reference are synchronized by position only when their normals are
        parallel (T2 axial and T2 sagittal are not).
    frame_times: presentation time of each frame in seconds from the first
        (videos; cine multi-frame with FrameTimeVector), else None.  Cine
        playback should wait ``frame_times[i+1] - frame_times[i]`` between
        frames: with a variable frame rate ``fps`` is only the average.
    frame_windows: per-frame default (center, width) when an enhanced
        multi-frame object gives one per frame (Frame VOI LUT macro), in the
        order of ``frames``; None when one window fits all.
    nonfinite: number of NaN/inf samples in float frames.  They are kept as
        NaN (inf becomes NaN too) so the display shows them as "no value",
        never as a saturated pixel; a model refuses such frames with a
        MediaError (``inference.preprocess.refuse_nonfinite``).
    decisions: human-readable choices the loader took that change what is
        shown relative to the stored order or orientation (EXIF/TIFF
        orientation, display-matrix rotation, frame re-ordering, pages kept);
        ``readerstudy probe`` prints them.
    orientation: ImageOrientationPatient (row direction cosines, then column
        direction cosines) of a series or volume, else None.  With ``origin``,
        ``spacing`` and ``slice_positions`` it places every frame in patient
        space (the viewer's reference lines).
    origin: ImagePositionPatient (mm, centre of the top-left pixel) of frame 0
        in display order, else None.  Frame k lies at
        ``origin + (slice_positions[k] - slice_positions[0]) * slice_normal``.
    """

    frames: np.ndarray
    kind: str
    spacing: tuple[float, float] = (1.0, 1.0)
    slice_positions: tuple[float, ...] | None = None
    frame_of_reference: str | None = None
    window: tuple[float, float] | None = None
    fps: float | None = None
    source: str = field(default="", compare=False)
    slice_spacing: float | None = None
    slice_normal: tuple[float, float, float] | None = None
    frame_times: tuple[float, ...] | None = None
    frame_windows: tuple[tuple[float, float], ...] | None = None
    nonfinite: int = 0
    decisions: tuple[str, ...] = ()
    orientation: tuple[float, float, float, float, float, float] | None = None
    origin: tuple[float, float, float] | None = None
    spacing_known: bool = False

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def is_color(self) -> bool:
        return self.frames.ndim == 4


class MediaError(Exception):
    """A file or folder could not be read.  ``str(err)`` is ``"PATH: cause"``."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause
