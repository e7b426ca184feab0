"""Decode what a reader will see: every case, every role, every file.

``validate_study`` goes beyond "the path exists":

* every media path must stay inside the study folder or one of the protocol's
  ``media_roots`` (``../..`` escapes and absolute paths elsewhere are refused);
* a DICOM series folder is checked file by file before it is decoded: a
  zero-byte file, a text file named ``.dcm`` or a truncated slice makes the
  whole series invalid (the media loader would otherwise skip what it cannot
  recognise and the reader would see 15 of 16 slices and an 11 mm gap);
* the media layer (``study.media.load`` / ``open_video``) then decodes the
  header and the first and last frame of each image, series and video;
* gaps in a series' slice positions (a step over 1.5x the median step) are
  reported as a missing slice.

Each failure is one line: ``CASE / ROLE: FILE: cause``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from study.cases import Case
from study.csvtable import read_case_rows
from study.intake.sniff import is_dicom_file
from study.media import MediaError, detect_kind, load, open_video
from study.protocol import Protocol
from study.specimen import FIELD_SEPARATOR, field_paths

# Transfer syntaxes whose pixel bytes are a plain array: their length is known from the header.
_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}
_NON_DICOM_SUFFIXES = {".txt", ".md", ".xml", ".json", ".html", ".htm", ".pdf", ".csv", ".ini", ".log"}
GAP_FACTOR = 1.5  # a step this many times the median step means a slice is missing

Progress = Callable[[int, int, float | None], None]  # done, total, seconds left (None: unknown yet)


@dataclass(frozen=True)
class Finding:
    """One problem with one file of one case.  ``severity`` is "error" or "note"."""

    case_id: str
    role: str
    path: str
    cause: str
    severity: str = "error"

    def line(self) -> str:
        return f"{self.case_id} / {self.role}: {self.path}: {self.cause}"


def media_roots(study_dir: Path, protocol: Protocol) -> tuple[Path, ...]:
    """The study folder and the protocol's media roots, resolved."""
    study_dir = Path(study_dir).resolve()
    return (study_dir, *((study_dir / r).resolve() for r in protocol.media_roots))


def path_problem(rel: str, full: Path, roots: Iterable[Path]) -> str | None:
    """Why a cases.csv media path is refused, or None when it lies inside a root."""
    for root in roots:
        if full == root or full.is_relative_to(root):
            return None
    where = "an absolute path" if os.path.isabs(rel) else "leaves the study folder"
    return f"media path {rel!r} is {where}; refused unless study.toml names its folder in [study] media_roots"


def series_file_problems(folder: Path) -> list[tuple[str, str]]:
    """(file, cause) for every file of a series folder a reader would silently miss; header parse only."""
    problems: list[tuple[str, str]] = []
    try:
        entries = sorted(
            (e for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")), key=lambda e: e.name
        )
    except OSError as exc:
        return [(str(folder), f"cannot list folder: {exc.strerror or exc}")]
    for entry in entries:
        if entry.name.upper() == "DICOMDIR":
            continue
        cause = _slice_file_problem(Path(entry.path))
        if cause:
            problems.append((entry.path, cause))
    return problems


def _slice_file_problem(path: Path) -> str | None:
    size = path.stat().st_size
    if size == 0:
        return "empty file (0 bytes): a lost slice?"
    if not is_dicom_file(path):
        if path.suffix.lower() in _NON_DICOM_SUFFIXES:
            return None  # a README beside the slices is not a slice
        return "not a DICOM file (no DICM preamble and no DICOM header) inside a DICOM series"
    try:
        ds = pydicom.dcmread(path, force=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"unreadable DICOM header: {type(exc).__name__}: {str(exc)[:120]}"
    if "PixelData" not in ds:
        if "Rows" in ds or "SOPClassUID" not in ds:
            return "truncated or damaged: no pixel data"
        return None  # a structured report or presentation state: not a slice
    syntax = str(getattr(ds.file_meta, "TransferSyntaxUID", "") or "1.2.840.10008.1.2")
    if syntax in _NATIVE:
        try:
            frames = int(ds.get("NumberOfFrames", 1) or 1)
            expected = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * frames
            expected = expected * int(ds.BitsAllocated) // 8
        except (AttributeError, TypeError, ValueError) as exc:
            return f"image header incomplete: {exc}"
        got = len(ds.PixelData)
        if got < expected:
            return f"truncated: pixel data has {got} of {expected} bytes"
    return None


def slice_gaps(positions: tuple[float, ...] | None) -> list[str]:
    """One message per step between sorted slice positions longer than GAP_FACTOR x the median step."""
    if not positions or len(positions) < 3:
        return []
    steps = np.diff(np.asarray(positions, dtype=float))
    median = float(np.median(steps))
    if not math.isfinite(median) or median <= 1e-6:
        return []
    out = []
    for i, step in enumerate(steps):
        if step > GAP_FACTOR * median:
            missing = round(step / median) - 1
            out.append(
                f"gap in slice positions between {positions[i]:.2f} and {positions[i + 1]:.2f} mm "
                f"({step:.2f} mm, the series' step is {median:.2f} mm): {missing} slice(s) missing?"
            )
    return out


def check_media(case_id: str, role: str, path: Path) -> list[Finding]:
    """Decode one role's media like the reading screen does; every problem as a Finding."""
    p = str(path)
    try:
        kind = detect_kind(path)
    except MediaError as err:
        return [Finding(case_id, role, p, err.cause)]
    found: list[Finding] = []
    if kind == "series":
        for file, cause in series_file_problems(path):
            found.append(Finding(case_id, role, file, f"series invalid: {cause}"))
        if found:
            return found
    try:
        if kind == "video":
            clip = open_video(path)
            try:
                n = len(clip)
                if n < 1:
                    return [Finding(case_id, role, p, "video has no frames")]
                _check_frame(clip[0])
                _check_frame(clip[n - 1])
            finally:
                clip.close()
            return []
        media = load(path)
        _check_frame(media.frames[0])
        _check_frame(media.frames[-1])
    except MediaError as err:
        return [Finding(case_id, role, err.path or p, err.cause)]
    if kind == "series":
        found += [Finding(case_id, role, p, msg) for msg in slice_gaps(media.slice_positions)]
    return found


def check_truth_mask(case: Case, protocol: Protocol) -> list[Finding]:
    """A region task's truth mask: readable, and the shape of the image it is drawn on:
    (H, W) (or (1, H, W)) for a single frame, (N, H, W) for N frames, since a reader's
    mask of an N-frame image is (N, H, W) and masks are never resampled (``mask_shape_problem``).
    On a series, the voxel spacing the report's volumes and 3-D distances need
    (``study.region.series_voxel_mm``: evenly spaced slice positions, a pixel spacing): said
    now, against the series' folder, rather than when the report refuses after the reading."""
    from study.region import frames_are_times, read_mask_file, series_voxel_mm

    role = protocol.region_role
    if case.truth_mask is None:
        return [Finding(case.case_id, "truth_mask", "", "no truth mask path")]
    try:
        mask = read_mask_file(case.truth_mask)
    except ValueError as err:
        return [Finding(case.case_id, "truth_mask", case.truth_mask, str(err).split(": ", 1)[-1])]
    try:
        media = load(Path(case.media[role]))
    except MediaError:
        return []  # the image's own finding says why
    problem = mask_shape_problem(mask.shape, media.frames.shape[:3], role)
    if problem:
        return [Finding(case.case_id, "truth_mask", case.truth_mask, problem)]
    if mask.ndim == 3 and mask.shape[0] > 1 and not frames_are_times(media):
        try:
            series_voxel_mm(media, protocol.task.spacing_mm)
        except ValueError as err:
            cause = str(err).removeprefix(f"{media.source}: ")
            return [Finding(case.case_id, role, media.source, f"region report (volumes in 3-D): {cause}")]
    return []


def mask_shape_problem(mask_shape: tuple[int, ...], frames_shape: tuple[int, int, int], role: str) -> str:
    """Why a truth mask of ``mask_shape`` does not fit an image of (N, H, W) ``frames_shape``; "" if it fits.

    A 2-D mask fits only a single frame: for an N-slice series the report would have no plane
    to compare a reader's (N, H, W) drawing with, and guessing one would be silently wrong."""
    n, h, w = frames_shape
    fits = tuple(mask_shape) == (n, h, w) or (n == 1 and tuple(mask_shape) == (h, w))
    if fits:
        return ""
    want = f"({h}, {w})" if n == 1 else f"({n}, {h}, {w}): {n} slices of {h} x {w}"
    hint = " (a 2-D mask for a series: save an (N, H, W) .npy stack)" if n > 1 and len(mask_shape) == 2 else ""
    return f"mask shape {tuple(mask_shape)} does not match the {role!r} media, of shape {want}{hint}"


def _check_frame(frame: np.ndarray) -> None:
    if frame.size == 0:
        raise MediaError("", "empty frame")
    if frame.dtype.kind == "f" and not np.isfinite(frame).all():
        raise MediaError("", "frame holds NaN or infinite values")


def _written_paths(study_dir: Path, roles: tuple[str, ...]) -> dict[tuple[str, str], str]:
    _, rows, _ = read_case_rows(study_dir / "cases.csv", ("case_id", *roles))
    return {(v["case_id"], r): v[r] for _, v in rows for r in roles}


def validate_study(
    study_dir: Path,
    protocol: Protocol,
    cases: tuple[Case, ...],
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Finding]:
    """Check every case and role; return the findings (empty: every file decodes).

    progress: called after each case with (done, total, seconds left).
    """
    study_dir = Path(study_dir).resolve()
    rel_paths = _written_paths(study_dir, protocol.hanging.roles)
    roots = media_roots(study_dir, protocol)
    findings: list[Finding] = []
    start = time.monotonic()
    for i, case in enumerate(cases):
        if cancelled():
            break
        for role in protocol.hanging.roles:
            if role not in case.media:  # an optional role left empty in this case
                continue
            # A specimen's cell lists several fields (study.specimen): each one is checked.
            fulls = field_paths(case.media[role])
            written = rel_paths.get((case.case_id, role), case.media[role]).split(FIELD_SEPARATOR)
            if len(written) != len(fulls):
                written = list(fulls)
            for rel, full_text in zip(written, fulls):
                full = Path(full_text)
                refused = path_problem(rel.strip(), full, roots)
                if refused:
                    findings.append(Finding(case.case_id, role, str(full), refused))
                    continue
                findings += check_media(case.case_id, role, full)
        if protocol.task.kind == "region":
            findings += check_truth_mask(case, protocol)
        if progress is not None:
            elapsed = time.monotonic() - start
            left = elapsed / (i + 1) * (len(cases) - i - 1)
            progress(i + 1, len(cases), left)
    return findings
