"""Which pyramid tiles a whole-slide view needs, and an LRU cache of decoded tiles (no Qt).

The viewer shows display tiles of ``DISPLAY_TILE`` level pixels.  For a view
showing ``level0_per_screen_px`` level-0 pixels per screen pixel it uses the
most reduced level that still has at least one level pixel per screen pixel
(OpenSlide's ``get_best_level_for_downsample``), so the picture is never
upsampled from a coarser level once its tiles are in.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from study.media.wsi import Slide, SlideInfo

DISPLAY_TILE = 512
CACHE_TILES = 256  # 256 RGB tiles of 512x512 = 192 MiB at most


@dataclass(frozen=True, order=True)
class TileKey:
    """A display tile: pyramid level and its column / row in that level's tile grid."""

    level: int
    col: int
    row: int


def choose_level(info: SlideInfo, level0_per_screen_px: float) -> int:
    """The pyramid level for a view showing ``level0_per_screen_px`` level-0 pixels per screen pixel."""
    return info.best_level(max(1.0, float(level0_per_screen_px)))


def tile_box(info: SlideInfo, key: TileKey) -> tuple[float, float, float, float]:
    """(x, y, width, height) of a display tile in level-0 pixels (clipped to the slide)."""
    ds = info.level_downsamples[key.level]
    lw, lh = info.level_dimensions[key.level]
    x0, y0 = key.col * DISPLAY_TILE, key.row * DISPLAY_TILE
    w, h = min(DISPLAY_TILE, lw - x0), min(DISPLAY_TILE, lh - y0)
    return (x0 * ds, y0 * ds, w * ds, h * ds)


def tiles_for_view(info: SlideInfo, level: int, rect: tuple[float, float, float, float]) -> list[TileKey]:
    """Display tiles of ``level`` meeting ``rect`` = (x, y, width, height) in level-0 pixels, centre first."""
    ds = info.level_downsamples[level]
    lw, lh = info.level_dimensions[level]
    x, y, w, h = rect
    c0 = max(0, math.floor(x / ds / DISPLAY_TILE))
    r0 = max(0, math.floor(y / ds / DISPLAY_TILE))
    c1 = min(math.ceil(lw / DISPLAY_TILE), math.ceil((x + w) / ds / DISPLAY_TILE))
    r1 = min(math.ceil(lh / DISPLAY_TILE), math.ceil((y + h) / ds / DISPLAY_TILE))
    keys = [TileKey(level, c, r) for r in range(r0, r1) for c in range(c0, c1)]
    cx, cy = (c0 + c1 - 1) / 2, (r0 + r1 - 1) / 2
    return sorted(keys, key=lambda k: ((k.col - cx) ** 2 + (k.row - cy) ** 2, k))


def read_tile(slide: Slide, key: TileKey) -> np.ndarray:
    """Decode one display tile: (h, w, 3) uint8 (edge tiles are smaller); MediaError naming the file."""
    x, y, _, _ = tile_box(slide.info, key)
    lw, lh = slide.info.level_dimensions[key.level]
    w = min(DISPLAY_TILE, lw - key.col * DISPLAY_TILE)
    h = min(DISPLAY_TILE, lh - key.row * DISPLAY_TILE)
    return slide.read_region((round(x), round(y)), key.level, (w, h))


def read_tiles(slide: Slide, keys: list[TileKey]) -> Iterator[tuple[TileKey, np.ndarray]]:
    """Decode ``keys`` one by one (a generator, for a cancellable worker)."""
    for key in keys:
        yield key, read_tile(slide, key)


class TileCache:
    """Least-recently-used decoded tiles of one slide, at most ``max_tiles``; thread-safe."""

    def __init__(self, max_tiles: int = CACHE_TILES) -> None:
        if max_tiles < 1:
            raise ValueError(f"max_tiles must be at least 1, got {max_tiles}")
        self.max_tiles = max_tiles
        self._tiles: OrderedDict[TileKey, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tiles)

    def __contains__(self, key: object) -> bool:
        return key in self._tiles

    def get(self, key: TileKey) -> np.ndarray | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: TileKey, tile: np.ndarray) -> None:
        with self._lock:
            self._tiles[key] = tile
            self._tiles.move_to_end(key)
            while len(self._tiles) > self.max_tiles:
                self._tiles.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
