"""Score a whole-slide image tile by tile: tissue detection, batched model, top-k CAMs, score map.

1. Tissue: Otsu's threshold (Otsu 1979, IEEE Trans. SMC 9:62; scikit-image
   ``threshold_otsu``) on the HSV saturation of a thumbnail, as in CLAM (Lu et
   al. 2021, Nat. Biomed. Eng. 5:555): stained cells are coloured, glass is
   grey-white, and pale cytoplasm that a grey-level threshold would lose to the
   dark nuclei is kept.  A grid cell is tissue when at least ``min_tissue`` of
   its thumbnail pixels are.
2. Tiles: the grid's cells are square fields of ``tile_size`` level-0 pixels,
   the model's input field at its magnification: ``input_size * input_mpp /
   slide_mpp`` (a model trained on 128-pixel inputs at 1.0 um/px reads 256
   level-0 pixels of a 0.5 um/px scan).  Each is read from the most reduced
   level that still has at least the model's resolution, resized to the input
   size and normalised like any frame (``inference.preprocess.to_tensor``).
3. Batches of ``batch_size`` tiles run through the network under
   ``torch.inference_mode``; the next batch is read by a second thread while the
   model runs.  ``progress(done, total, eta_s)`` after every batch, ``cancel``
   checked between batches (then ``SlideCancelled``).
4. The tile score is the model's suspicion (``inference.predict``'s score:
   binary p(positive), multiclass the summed positive-class probability).  The
   specimen score is the maximum over tissue tiles; the top-k tiles get a
   Grad-CAM each (the spec's CAM method and target layer).

Everything returned is plain data (``study.wsi_scores.SlideScores``; an
``AIOutput`` via ``slide_output``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from inference.cam import class_targets, finish, make_cam
from inference.load import LoadedModel
from inference.network import find_target_layer
from inference.predict import _per_image, _summary, library_versions
from inference.preprocess import to_tensor
from study.aioutput import AIOutput
from study.media.wsi import Slide, open_slide
from study.wsi_scores import SlideScores, TileScore, to_cams, top_tiles

ProgressFn = Callable[[int, int, float | None], None]
DEFAULT_INPUT_MPP = 1.0  # um per model-input pixel: a 10x field, as the cytology photos
THUMBNAIL_SIDE = 2048
THUMBNAIL_MIN = 512


class SlideCancelled(Exception):
    """The run was cancelled between batches; nothing is returned."""


@dataclass(frozen=True)
class TissueGrid:
    """Which grid cells hold tissue.

    tissue: (gh, gw) bool; fraction: (gh, gw) float32, tissue share of each cell;
    threshold: Otsu's saturation level (0-1) on the thumbnail; tile_size: level-0 pixels per cell.
    """

    tissue: np.ndarray
    fraction: np.ndarray
    threshold: float
    tile_size: int


def tile_size_for(slide: Slide, input_size: int, input_mpp: float = DEFAULT_INPUT_MPP) -> int:
    """Level-0 pixels per model field; without an mpp in the file the slide is taken as 0.5 um/px (20x)."""
    slide_mpp = slide.info.mpp[0] if slide.info.mpp else 0.5
    return max(1, round(input_size * input_mpp / slide_mpp))


def find_tissue(slide: Slide, tile_size: int, min_tissue: float = 0.02) -> TissueGrid:
    """Otsu tissue mask of a thumbnail, pooled to the tile grid (see the module doc)."""
    from skimage.filters import threshold_otsu

    w0, h0 = slide.info.dimensions
    cells_across = math.ceil(max(w0, h0) / tile_size)
    # About 16 thumbnail pixels per cell side is plenty for a share of stained pixels.
    thumb = slide.thumbnail(min(THUMBNAIL_SIDE, max(THUMBNAIL_MIN, 16 * cells_across))).astype(np.float32)
    high, low = thumb.max(axis=2), thumb.min(axis=2)
    saturation = np.where(high > 0, (high - low) / np.maximum(high, 1.0), 0.0)
    threshold = float(threshold_otsu(saturation)) if np.ptp(saturation) > 0 else np.inf
    mask = saturation > threshold
    gw, gh = math.ceil(w0 / tile_size), math.ceil(h0 / tile_size)
    # Each thumbnail pixel to its grid cell; the share of tissue pixels per cell.
    th, tw = mask.shape
    rows = np.minimum((np.arange(th) + 0.5) * h0 / th // tile_size, gh - 1).astype(int)
    cols = np.minimum((np.arange(tw) + 0.5) * w0 / tw // tile_size, gw - 1).astype(int)
    cell = rows[:, None] * gw + cols[None, :]
    count = np.bincount(cell.ravel(), minlength=gw * gh)
    hits = np.bincount(cell.ravel(), weights=mask.ravel().astype(np.float64), minlength=gw * gh)
    fraction = np.where(count > 0, hits / np.maximum(count, 1), 0.0).reshape(gh, gw).astype(np.float32)
    return TissueGrid(fraction >= min_tissue, fraction, threshold, tile_size)


def read_field(slide: Slide, row: int, col: int, tile_size: int, input_size: int) -> np.ndarray:
    """One model field, (h, w, 3) uint8 from the level nearest above the model's resolution (white past the edge)."""
    level = slide.info.best_level(tile_size / input_size)
    ds = slide.info.level_downsamples[level]
    side = max(1, round(tile_size / ds))
    return slide.read_region((col * tile_size, row * tile_size), level, (side, side))


def read_fields(slide: Slide, cells: list[tuple[int, int]], tile_size: int, input_size: int) -> np.ndarray:
    """The model fields of ``cells`` (row, col), (n, s, s, 3) uint8, in the given order.

    Cells of one grid row are read as one strip (one ``read_region`` from the
    first to the last of them): each stored JPEG tile is decoded once and the
    per-call overhead of tiffslide/zarr is paid per row, not per field.
    """
    level = slide.info.best_level(tile_size / input_size)
    ds = slide.info.level_downsamples[level]
    side = max(1, round(tile_size / ds))
    out = np.empty((len(cells), side, side, 3), np.uint8)
    rows: dict[int, list[int]] = {}
    for i, (r, _) in enumerate(cells):
        rows.setdefault(r, []).append(i)
    for r, idx in rows.items():
        cols = [cells[i][1] for i in idx]
        c0, c1 = min(cols), max(cols)
        strip = slide.read_region((c0 * tile_size, r * tile_size), level, ((c1 - c0 + 1) * side, side))
        for i, c in zip(idx, cols, strict=True):
            out[i] = strip[:, (c - c0) * side : (c - c0 + 1) * side]
    return out


def score_slide(
    model: LoadedModel,
    slide: Slide | str,
    *,
    role: str | None = None,
    input_mpp: float = DEFAULT_INPUT_MPP,
    top_k: int = 5,
    batch_size: int = 32,
    min_tissue: float = 0.02,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> SlideScores:
    """Tile scores, score map and top-k CAMs of one slide (see the module doc).

    Raises MediaError for an unreadable slide, SlideCancelled when ``cancel`` is set.
    """
    own = not isinstance(slide, Slide)
    slide = open_slide(slide) if own else slide
    try:
        return _score(model, slide, role, input_mpp, top_k, batch_size, min_tissue, progress, cancel)
    finally:
        if own:
            slide.close()


def _score(model, slide, role, input_mpp, top_k, batch_size, min_tissue, progress, cancel) -> SlideScores:  # noqa: ANN001, PLR0913
    spec = model.spec
    role = role or spec.members[0].role
    net = model.nets[role]
    size = spec.input_size[0]
    tile = tile_size_for(slide, size, input_mpp)
    grid = find_tissue(slide, tile, min_tissue)
    cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(grid.tissue), strict=True)]
    batches = [cells[i : i + batch_size] for i in range(0, len(cells), batch_size)]
    score_map = np.zeros(grid.tissue.shape, np.float32)

    def load(batch: list[tuple[int, int]]) -> torch.Tensor:
        return to_tensor(read_fields(slide, batch, tile, size).astype(np.float32) / 255.0, spec)

    start = time.perf_counter()
    if progress:
        progress(0, len(cells), None)
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsi-read") as pool:
        pending = pool.submit(load, batches[0]) if batches else None
        for i, batch in enumerate(batches):
            if cancel is not None and cancel.is_set():
                if pending is not None:
                    pending.cancel()
                raise SlideCancelled(f"{slide.path}: cancelled after {done} of {len(cells)} tiles")
            assert pending is not None
            x = pending.result()
            pending = pool.submit(load, batches[i + 1]) if i + 1 < len(batches) else None
            with torch.inference_mode():
                probs = _per_image(spec, net(x.to(model.device)).float()).cpu().numpy()
            for (r, c), p in zip(batch, probs, strict=True):
                score_map[r, c] = _summary(spec, p)["score"]
            done += len(batch)
            if progress:
                elapsed = time.perf_counter() - start
                progress(done, len(cells), elapsed / done * (len(cells) - done))
    top = top_tiles(score_map, top_k, grid.tissue)
    cams, probs = _top_cams(model, role, slide, top, tile)
    return SlideScores(np.clip(score_map, 0, 1), tile, top, cams, slide.info.dimensions, probs)


def _top_cams(
    model: LoadedModel, role: str, slide: Slide, top: tuple[TileScore, ...], tile: int
) -> tuple[np.ndarray, tuple[float, ...]]:
    """One Grad-CAM per top tile, (k, cam_size, cam_size) float32 in [0, 1] (k x 0 x 0 without CAM
    support), and the top tile's class probabilities."""
    spec = model.spec
    if not top:
        return np.zeros((0, 0, 0), np.float32), ()
    net = model.nets[role]
    size = spec.input_size[0]
    fields = np.stack([read_field(slide, t.row, t.col, tile, size) for t in top]).astype(np.float32) / 255.0
    x = to_tensor(fields, spec).to(model.device)
    if not model.cam_supported:
        with torch.inference_mode():
            probs = _per_image(spec, net(x).float()).cpu().numpy()
        return np.zeros((len(top), 0, 0), np.float32), tuple(float(p) for p in probs[0])
    engine = make_cam(spec.cam_method, net, find_target_layer(net, spec.cam_target_layer))
    out, acts = engine.forward(x)
    probs = _per_image(spec, out.detach().float()).cpu().numpy()
    targets = [
        int(np.argmax(p)) if spec.cam_target == "predicted" else spec.labels.index(spec.cam_target) for p in probs
    ]
    maps = finish(engine.maps(x, out, acts, class_targets(targets)), (spec.cam_size, spec.cam_size))
    return maps.detach().cpu().numpy().astype(np.float32), tuple(float(p) for p in probs[0])


def slide_output(model: LoadedModel, scores: SlideScores, case_id: str, role: str | None = None) -> AIOutput:
    """The ``AIOutput`` of a slide: the top tile's prediction, the specimen score, the score map in ``cams``."""
    spec = model.spec
    role = role or spec.members[0].role
    summary: dict = {"labels": spec.labels}
    if scores.top_probabilities and spec.head in ("binary", "multiclass"):
        summary = _summary(spec, np.asarray(scores.top_probabilities))
    summary["score"] = scores.specimen_score  # the specimen: its most suspicious tile
    return AIOutput(
        case_id=case_id,
        model_id=spec.model_id,
        head=spec.head,
        cams=to_cams(role, scores),
        cam_method=spec.cam_method if scores.top_cams.size else "",
        cam_target=spec.cam_target if scores.top_cams.size else "",
        versions=dict(library_versions()),
        **summary,
    )


def plain_forward_rate(model: LoadedModel, tensors: list[torch.Tensor], role: str | None = None) -> float:
    """Tiles per second of the bare batched forward over ready tensors (the benchmark's reference)."""
    net = model.nets[role or model.spec.members[0].role]
    start = time.perf_counter()
    n = 0
    with torch.inference_mode():
        for x in tensors:
            net(x.to(model.device))
            n += x.shape[0]
    return n / (time.perf_counter() - start)
