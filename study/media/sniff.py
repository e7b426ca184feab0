"""Which loader a path needs, decided from magic bytes (extensions only break ties).

``detect_kind`` never decodes pixels: it reads at most 132 bytes (plus the TIFF
header of a TIFF file, to tell a whole-slide pyramid from a photo), so the study
validator can call it on every case cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

from study.media.guard import fail

DICOM_SUFFIXES = {".dcm", ".dicom", ".dic", ".ima"}
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg"}

_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF little endian
    b"MM\x00*",  # TIFF big endian
    b"II+\x00",  # BigTIFF
    b"MM\x00+",
    b"BM",  # BMP
    b"GIF87a",
    b"GIF89a",
)
_QUICKTIME_ATOMS = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
TIFF_MAGIC = _IMAGE_MAGIC[2:6]


def head(path: str | os.PathLike[str], n: int = 132) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def looks_like_dicom_without_preamble(h: bytes) -> bool:
    """A raw dataset starting at byte 0: first tag in group 0002 or 0008, any byte order."""
    if len(h) < 8:
        return False
    group_le = int.from_bytes(h[0:2], "little")
    elem_le = int.from_bytes(h[2:4], "little")
    group_be = int.from_bytes(h[0:2], "big")
    elem_be = int.from_bytes(h[2:4], "big")
    return (group_le in (0x0002, 0x0008) and elem_le < 0x0100) or (group_be in (0x0002, 0x0008) and elem_be < 0x0100)


def sniff_file(path: str | os.PathLike[str], h: bytes) -> str | None:
    """The kind of a regular file from its first bytes and name, or None if unknown."""
    if len(h) >= 132 and h[128:132] == b"DICM":
        return "dicom"  # checked first: a DICOM preamble may itself look like TIFF
    if any(h.startswith(m) for m in _IMAGE_MAGIC):
        return "image"
    if h[:4] == b"RIFF" and h[8:12] == b"WEBP":
        return "image"
    if h[:4] == b"RIFF" and h[8:12] == b"AVI ":
        return "video"
    if len(h) >= 8 and h[4:8] in _QUICKTIME_ATOMS:
        return "video"
    if h[:4] == b"\x1a\x45\xdf\xa3":  # Matroska / WebM
        return "video"
    suffix = Path(path).suffix.lower()
    if suffix in DICOM_SUFFIXES or looks_like_dicom_without_preamble(h):
        return "dicom"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None


def detect_kind(path: str | os.PathLike[str]) -> str:
    """Return "image", "wsi" (a whole-slide pyramid), "dicom" (single or multi-frame), "series" (a folder) or "video".

    Raises MediaError for a missing, empty, unreadable or unrecognised path.
    """
    p = os.fspath(path)
    try:
        if os.path.isdir(p):
            return "series"
        if not os.path.exists(p):
            raise fail(p, "missing file")
        if not os.path.isfile(p):
            raise fail(p, "not a regular file or folder")
        h = head(p)
    except PermissionError:
        raise fail(p, "permission denied") from None
    except OSError as exc:
        raise fail(p, f"cannot open: {exc.strerror or exc}") from None
    if not h:
        raise fail(p, "empty file")
    kind = sniff_file(p, h)
    if kind is None:
        raise fail(p, "unknown format (not an image, DICOM or video file)")
    if kind == "image" and h.startswith(TIFF_MAGIC):
        from study.media.wsi import is_slide

        if is_slide(p):
            return "wsi"
    return kind
