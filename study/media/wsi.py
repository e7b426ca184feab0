"""Whole-slide images (pyramidal TIFF, SVS, NDPI) through ``tiffslide``: plain numpy out.

    slide = open_slide("slides/S01.svs")
    slide.info.level_dimensions      # ((W0, H0), (W1, H1), ...) pixels per level
    rgb = slide.read_region((x0, y0), level=1, size=(512, 512))   # (512, 512, 3) uint8
    thumb = slide.thumbnail(1024)    # (h, w, 3) uint8, longest side <= 1024

Coordinates follow OpenSlide: ``location`` is (x, y) in level-0 pixels, ``size``
is (width, height) in pixels of the requested level.  Outside the slide the
region is padded with white (background of a glass slide), never an error.

``tiffslide`` (pure Python on tifffile + zarr) reads Aperio SVS, Hamamatsu NDPI,
Leica SCN, Philips TIFF and generic tiled pyramidal TIFF (levels as SubIFDs or
as separate pages); anything else raises ``MediaError(path, cause)``.

A ``Slide`` may be read from several worker threads: reads are serialised by
a lock (the tifffile handle under tiffslide is one file position).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.media.guard import fail, one_line, quiet, reraise_if_fatal
from study.media.types import Media, MediaError

WSI_SUFFIXES = {".svs", ".ndpi", ".scn", ".bif", ".qptiff"}
THUMBNAIL_SIDE = 1024
BACKGROUND = 255  # glass: white


@dataclass(frozen=True)
class SlideInfo:
    """What a slide is, without pixels.

    level_dimensions: (width, height) in pixels per level, level 0 the largest.
    level_downsamples: level-0 pixels per level pixel, per level (1.0 first).
    tile_sizes: (width, height) of the stored tiles per level (0 when stripped).
    mpp: (x, y) micrometres per level-0 pixel, or None when the file does not say.
    objective_power: scanner magnification (e.g. 20.0), or None.
    vendor: tiffslide's format name ("aperio", "hamamatsu", "generic-tiff", ...).
    source: the file (for error messages only; never shown to readers).
    """

    level_dimensions: tuple[tuple[int, int], ...]
    level_downsamples: tuple[float, ...]
    tile_sizes: tuple[tuple[int, int], ...]
    mpp: tuple[float, float] | None
    objective_power: float | None
    vendor: str
    source: str

    @property
    def level_count(self) -> int:
        return len(self.level_dimensions)

    @property
    def dimensions(self) -> tuple[int, int]:
        """(width, height) of level 0."""
        return self.level_dimensions[0]

    def best_level(self, downsample: float) -> int:
        """The most reduced level whose downsample is at most ``downsample`` (0 when none)."""
        best = 0
        for k, d in enumerate(self.level_downsamples):
            if d <= downsample * 1.0001:
                best = k
        return best


class Slide:
    """An open whole-slide image; ``close()`` (or ``with``) releases the file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import tiffslide

        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            with quiet():
                self._slide = tiffslide.TiffSlide(self.path)
                self.info = _info(self._slide, self.path)
        except MediaError:
            raise
        except BaseException as exc:
            reraise_if_fatal(exc)
            raise fail(
                self.path, f"cannot open as a whole-slide image: {type(exc).__name__}: {one_line(exc, 160)}"
            ) from None

    def __enter__(self) -> Slide:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._slide.close()

    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]) -> np.ndarray:
        """(height, width, 3) uint8 RGB of ``size`` (w, h) level pixels from level-0 ``location`` (x, y).

        Raises MediaError naming the file for a level out of range, a
        non-positive size or a tile that does not decode.
        """
        w, h = int(size[0]), int(size[1])
        if not 0 <= level < self.info.level_count:
            raise fail(self.path, f"level {level} out of range (the slide has {self.info.level_count} levels)")
        if w <= 0 or h <= 0:
            raise fail(self.path, f"region size must be positive, got {w}x{h}")
        try:
            with self._lock, quiet():
                arr = self._slide.read_region(location, level, (w, h), as_array=True, padding=False)
        except BaseException as exc:
            reraise_if_fatal(exc)
            raise fail(
                self.path, f"cannot read level {level} at {tuple(location)}: {type(exc).__name__}: {one_line(exc, 160)}"
            ) from None
        return _pad_rgb(np.asarray(arr), location, level, (w, h), self.info)

    def thumbnail(self, max_side: int = THUMBNAIL_SIDE) -> np.ndarray:
        """(h, w, 3) uint8 of the whole slide, longest side at most ``max_side``, from the smallest fitting level."""
        w0, h0 = self.info.dimensions
        scale = max(w0, h0) / max_side
        level = self.info.best_level(max(scale, 1.0))
        lw, lh = self.info.level_dimensions[level]
        rgb = self.read_region((0, 0), level, (lw, lh))
        if max(lw, lh) <= max_side:
            return rgb
        from PIL import Image

        k = max_side / max(lw, lh)
        out = Image.fromarray(rgb).resize((max(1, round(lw * k)), max(1, round(lh * k))), Image.Resampling.BOX)
        return np.asarray(out)


def open_slide(path: str | os.PathLike[str]) -> Slide:
    """Open a whole-slide image; MediaError(path, cause) if it is not one or is broken."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise fail(p, "missing file" if not os.path.exists(p) else "not a regular file")
    return Slide(p)


def is_slide(path: str | os.PathLike[str]) -> bool:
    """Whether a TIFF-family file is a whole-slide image: a tiled pyramid or a slide scanner format.

    Reads the TIFF header only (no pixels).  False for anything tifffile cannot
    parse; the image loader then reports the cause.
    """
    p = os.fspath(path)
    pyramid = _pyramid_header(p)
    # a broken TIFF is the image loader's business: a slide scanner's suffix sends it there
    return Path(p).suffix.lower() in WSI_SUFFIXES if pyramid is None else pyramid


def _pyramid_header(p: str) -> bool | None:
    """Whether the TIFF header says slide (``is_slide``); None when the header does not parse."""
    import tifffile

    try:
        with quiet(), tifffile.TiffFile(p) as tf:
            if tf.is_svs or tf.is_ndpi or tf.is_scn or tf.is_philips:
                return True
            series = tf.series[0]
            page = series.pages[0] if series.pages else None
            tiled = page is not None and getattr(page, "is_tiled", False)
            return bool(tiled and len(series.levels) > 1)
    except BaseException as exc:
        reraise_if_fatal(exc)
        return None


def warm_up(paths: Iterable[str], max_checked: int = 16) -> str | None:
    """Pay this process's one-off cost of a first slide ahead (tiffslide, tifffile, zarr and codec
    imports and their set-up, about half a second): open the first whole-slide image among
    ``paths`` and read one pixel of its smallest level.  Meant for a worker thread while the
    reader signs in.  Returns the slide warmed, or None when none is among the first
    ``max_checked`` TIFF-family files (then only their headers were read)."""
    checked = 0
    for path in paths:
        p = os.fspath(path)
        suffix = Path(p).suffix.lower()
        if suffix not in WSI_SUFFIXES and suffix not in (".tif", ".tiff"):
            continue
        if checked >= max_checked:
            break
        checked += 1
        # Only a slide whose header parses: a broken one is reported (file and cause) when its
        # case is read, and opening it here would only leak tiffslide's file handle.
        if not os.path.isfile(p) or not _pyramid_header(p):
            continue
        try:
            with open_slide(p) as slide:
                slide.read_region((0, 0), slide.info.level_count - 1, (1, 1))
        except MediaError:
            continue  # see above: its case reports it
        return p
    return None


def load_slide_overview(path: str) -> Media:
    """The slide as one-frame ``Media(kind="wsi")`` holding its thumbnail (what ``study.media.load`` gives).

    ``spacing`` is the thumbnail's pixel size in mm when the slide has an mpp,
    ``source`` the slide file: viewers open the pyramid from it.
    """
    with open_slide(path) as slide:
        thumb = slide.thumbnail(THUMBNAIL_SIDE)
        info = slide.info
    w0, _ = info.dimensions
    spacing = (1.0, 1.0)
    if info.mpp is not None:
        k = w0 / thumb.shape[1]
        spacing = (info.mpp[1] * k / 1000.0, info.mpp[0] * k / 1000.0)
    levels = ", ".join(f"{w}x{h}" for w, h in info.level_dimensions)
    return Media(
        frames=np.ascontiguousarray(thumb[np.newaxis]),
        kind="wsi",
        spacing=spacing,
        spacing_known=info.mpp is not None,
        source=path,
        decisions=(
            f"whole-slide image ({info.vendor}): levels {levels}; shown: thumbnail {thumb.shape[1]}x{thumb.shape[0]}",
        ),
    )


def _info(slide, path: str) -> SlideInfo:  # type: ignore[no-untyped-def]
    props = slide.properties
    axes = props.get("tiffslide.series-axes")
    if axes not in ("YXS", "CYX", "YX"):
        raise fail(path, f"unsupported slide layout (axes {axes!r})")
    dims = tuple((int(w), int(h)) for w, h in slide.level_dimensions)
    if not dims or min(min(d) for d in dims) < 1:
        raise fail(path, "the slide has no pixels")
    tiles = tuple(
        (
            int(props.get(f"tiffslide.level[{k}].tile-width") or 0),
            int(props.get(f"tiffslide.level[{k}].tile-height") or 0),
        )
        for k in range(len(dims))
    )
    mx, my = props.get("tiffslide.mpp-x"), props.get("tiffslide.mpp-y")
    mpp = None
    try:
        if mx and my and float(mx) > 0 and float(my) > 0:
            mpp = (float(mx), float(my))
    except (TypeError, ValueError):
        mpp = None
    power = props.get("tiffslide.objective-power")
    try:
        power = float(power) if power not in (None, "") else None
    except (TypeError, ValueError):
        power = None
    return SlideInfo(
        level_dimensions=dims,
        level_downsamples=tuple(float(d) for d in slide.level_downsamples),
        tile_sizes=tiles,
        mpp=mpp,
        objective_power=power,
        vendor=str(props.get("tiffslide.vendor") or "generic-tiff"),
        source=path,
    )


def _pad_rgb(
    arr: np.ndarray, location: tuple[int, int], level: int, size: tuple[int, int], info: SlideInfo
) -> np.ndarray:
    """The read array as (h, w, 3) uint8, padded with white where the region leaves the slide."""
    if arr.ndim == 2:
        arr = arr[..., np.newaxis]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.dtype != np.uint8:
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:
            arr = (arr >> 8).astype(np.uint8)
        else:
            raise MediaError(info.source, f"unsupported sample type {arr.dtype} at level {level}")
    w, h = size
    if arr.shape[0] == h and arr.shape[1] == w:
        return np.ascontiguousarray(arr)
    ds = info.level_downsamples[level]
    x0, y0 = int(location[0] / ds), int(location[1] / ds)
    out = np.full((h, w, 3), BACKGROUND, np.uint8)
    ox, oy = max(0, -x0), max(0, -y0)
    ah, aw = min(arr.shape[0], h - oy), min(arr.shape[1], w - ox)
    if ah > 0 and aw > 0:
        out[oy : oy + ah, ox : ox + aw] = arr[:ah, :aw]
    return out
