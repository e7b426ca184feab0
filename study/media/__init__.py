"""The media layer: any case file or folder to plain numpy (no Qt, no identifying tags).

    from study.media import load, detect_kind, MediaCache, Media, MediaError
    media = load("cases/017/T2axi")   # a DICOM series folder -> Media(kind="series")

``load`` accepts 2-D images (PNG, JPEG, TIFF, BMP, GIF), single and multi-frame
DICOM files, DICOM series folders and videos (MP4, AVI, MOV, MKV).  A
whole-slide image (tiled pyramidal TIFF, SVS, NDPI) loads as ``kind="wsi"`` with
its thumbnail as the one frame; ``study.media.wsi.open_slide`` reads its pyramid.  Anything it
cannot read raises ``MediaError(path, cause)`` with a one-line cause; it never
lets another exception type escape.  Returned frames are read-only because a
``Media`` may be shared through ``MediaCache`` between the GUI and a worker.

Loads run one at a time in the process: third-party warnings are silenced
with ``warnings.catch_warnings``, which is process-global, so a lock guards it.
A cache hit never waits; load off the GUI thread (``MediaCache.get`` in a
worker) and a 300-slice series never blocks a frame.  ``open_video`` gives
frames of a long video lazily, by index.
"""

from __future__ import annotations

import os

from study.media.cache import MediaCache
from study.media.guard import MAX_BYTES, fail, one_line, quiet, reraise_if_fatal
from study.media.sniff import detect_kind
from study.media.types import Media, MediaError

__all__ = ["MAX_BYTES", "Media", "MediaCache", "MediaError", "detect_kind", "load", "open_video"]


def open_video(path: str | os.PathLike[str]):  # type: ignore[no-untyped-def]  # -> VideoClip
    """A video decoded frame by frame on demand (``clip[i]``, ``len(clip)``, ``clip.fps``)."""
    from study.media.video import open_video as _open

    return _open(path)


def load(path: str | os.PathLike[str]) -> Media:
    """Read ``path`` into a ``Media``; raise ``MediaError`` for anything unreadable."""
    p = os.fspath(path)
    kind = detect_kind(p)
    # pydicom warns lazily, when an element is first read, so the whole load is quiet.
    with quiet():
        media = _load(p, kind)
    _check(p, media)
    media.frames.flags.writeable = False
    return media


def _load(p: str, kind: str) -> Media:
    try:
        if kind == "series":
            from study.media.dicom_series import load_series

            media = load_series(p)
        elif kind == "dicom":
            from study.media.dicom_file import load_dicom_file

            media = load_dicom_file(p)
        elif kind == "video":
            from study.media.video import load_video

            media = load_video(p)
        elif kind == "wsi":
            from study.media.wsi import load_slide_overview

            media = load_slide_overview(p)
        else:
            from study.media.image import load_image

            media = load_image(p)
    except MediaError:
        raise
    except MemoryError:
        raise fail(p, "too large to load into memory") from None
    except RecursionError:
        raise fail(p, "corrupt file (nesting too deep)") from None
    except BaseException as exc:  # a reader bug or exotic corruption must not crash the app
        reraise_if_fatal(exc)
        raise fail(p, f"cannot read {kind}: {type(exc).__name__}: {one_line(exc, 160)}") from None
    return media


def _check(p: str, media: Media) -> None:
    f = media.frames
    if f.ndim not in (3, 4) or f.shape[0] < 1 or f.shape[1] < 1 or f.shape[2] < 1:
        raise fail(p, f"no displayable frames (shape {f.shape})")
    if f.ndim == 4 and (f.shape[3] != 3 or f.dtype.name != "uint8"):
        raise fail(p, f"unexpected colour layout {f.shape} {f.dtype}")
