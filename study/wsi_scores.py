"""The AI's tile scores of one whole-slide image, as plain data, and their place in an ``AIOutput``.

A slide is cut into a grid of square tiles of ``tile_size`` level-0 pixels
(the model's input field at its magnification).  ``score_map`` holds one
suspicion score per grid cell (0 where there is no tissue): it is the
low-resolution heatmap drawn over the slide.  ``top`` lists the k most
suspicious tiles, ``top_cams`` their Grad-CAMs.

In the store the scores travel inside the existing ``AIOutput.cams`` (float16
npz), under three keys per role:

* ``role``: the top tiles' CAMs, (k, h, w) in [0, 1] (what a CAM viewer shows);
* ``role + "#scoremap"``: (1, gh, gw) score map in [0, 1];
* ``role + "#topcells"``: (1, k, 3) rows of (grid row, grid column, tile_size),
  integers, exact in float16 up to 2048 (grids up to 2048 cells a side,
  tiles up to 2048 level-0 pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCOREMAP = "#scoremap"
TOPCELLS = "#topcells"
FLOAT16_EXACT = 2048


@dataclass(frozen=True)
class TileScore:
    """One grid cell: its row and column in the score map and the model's score for it."""

    row: int
    col: int
    score: float

    def box(self, tile_size: int) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the tile in level-0 pixels."""
        return (self.col * tile_size, self.row * tile_size, tile_size, tile_size)


@dataclass(frozen=True)
class SlideScores:
    """Tile scores of one slide.

    score_map: (gh, gw) float32 in [0, 1], cell (r, c) covers level-0 pixels
        [c*tile_size, (c+1)*tile_size) x [r*tile_size, (r+1)*tile_size).
    tile_size: level-0 pixels per grid cell side.
    top: the most suspicious tiles, highest score first.
    top_cams: (len(top), h, w) float32 in [0, 1], one Grad-CAM per top tile
        (h = w = 0 rows when none were computed).
    slide_size: (width, height) of level 0.
    top_probabilities: the model's class probabilities for the top tile (the
        slide's prediction), empty when there is no tissue.
    """

    score_map: np.ndarray
    tile_size: int
    top: tuple[TileScore, ...]
    top_cams: np.ndarray
    slide_size: tuple[int, int]
    top_probabilities: tuple[float, ...] = ()

    @property
    def specimen_score(self) -> float:
        """Suspicion of the slide: the maximum tile score (0.0 without tissue)."""
        return float(self.top[0].score) if self.top else 0.0


def top_tiles(score_map: np.ndarray, k: int, tissue: np.ndarray | None = None) -> tuple[TileScore, ...]:
    """The ``k`` highest cells of ``score_map`` (on ``tissue`` only, if given), highest first, ties by position."""
    scores = np.asarray(score_map, dtype=np.float64)
    flat = scores.ravel()
    allowed = np.ones(flat.shape, bool) if tissue is None else np.asarray(tissue, bool).ravel()
    idx = np.flatnonzero(allowed)
    order = idx[np.lexsort((idx, -flat[idx]))][: max(0, k)]
    gw = scores.shape[1]
    return tuple(TileScore(int(i // gw), int(i % gw), float(flat[i])) for i in order)


def to_cams(role: str, scores: SlideScores) -> dict[str, np.ndarray]:
    """The ``AIOutput.cams`` entries for ``scores``; ValueError when a number cannot be exact in float16."""
    gh, gw = scores.score_map.shape
    if max(gh, gw, scores.tile_size) > FLOAT16_EXACT:
        raise ValueError(
            f"score map {gw}x{gh} with tile size {scores.tile_size} exceeds {FLOAT16_EXACT} "
            "(grid cells and tile sizes are stored as float16 integers)"
        )
    cells = np.array([[t.row, t.col, scores.tile_size] for t in scores.top], dtype=np.float32).reshape(1, -1, 3)
    cams = np.asarray(scores.top_cams, dtype=np.float32)
    out = {role + SCOREMAP: np.clip(scores.score_map, 0, 1).astype(np.float32)[np.newaxis], role + TOPCELLS: cells}
    if cams.size:
        out[role] = cams
    return out


def from_cams(role: str, cams: dict[str, np.ndarray], slide_size: tuple[int, int]) -> SlideScores | None:
    """The ``SlideScores`` stored in ``cams`` for ``role``, or None when there are none."""
    if role + SCOREMAP not in cams or role + TOPCELLS not in cams:
        return None
    score_map = np.asarray(cams[role + SCOREMAP], dtype=np.float32)[0]
    cells = np.asarray(cams[role + TOPCELLS], dtype=np.float32)[0]
    tile_size = int(round(float(cells[0, 2]))) if len(cells) else 0
    top = tuple(
        TileScore(
            int(round(float(r))), int(round(float(c))), float(score_map[int(round(float(r))), int(round(float(c)))])
        )
        for r, c, _ in cells
    )
    top_cams = np.asarray(cams.get(role, np.zeros((0, 0, 0))), dtype=np.float32)
    return SlideScores(score_map, tile_size, top, top_cams, slide_size)
