"""Synthetic whole-slide cytology specimens: tiled JPEG pyramids written with tifffile.

A slide is a glass-white background with a few smooth tissue islands covered
by Pap-stained squamous cells (pink or blue-green cytoplasm, small pale
nuclei).  Inside each *suspicious region* (the truth boxes) the cells are
HSIL-like: crowded, with large, dark, irregular nuclei (high nucleus-to-
cytoplasm ratio), as in ``study.demo.cytology``.

Two on-disk layouts, both read by ``tiffslide`` (and OpenSlide):

* ``"subifds"``: a generic pyramidal TIFF, level 0 in the first page and the
  reduced levels as its SubIFDs (tifffile's ``subifds=``, as libvips and
  bfconvert write them);
* ``"svs"``: Aperio SVS order (baseline, stripped thumbnail, then the reduced
  levels as tiled pages) with an Aperio ImageDescription carrying ``MPP`` and
  ``AppMag``.

Tiles are 256x256 JPEG (quality 90); each level halves the previous one until
its longest side is at most 512 pixels.  Everything is drawn from one seed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, zoom

from study.demo.common import rng_for

TILE = 256
JPEG_QUALITY = 90
MPP = 0.5  # micrometres per level-0 pixel: a 20x scan
APP_MAG = 20
GLASS = np.array([243.0, 241.0, 245.0])
CYANOPHILIC = np.array([118.0, 176.0, 190.0])
EOSINOPHILIC = np.array([232.0, 148.0, 170.0])
NUCLEUS_PALE = np.array([120.0, 100.0, 160.0])
NUCLEUS_DARK = np.array([40.0, 22.0, 70.0])
REGIONS_CSV = "wsi_regions.csv"


@dataclass(frozen=True)
class SuspiciousRegion:
    """A truth box of HSIL-like cells, in level-0 pixels: (x, y) top-left, width, height."""

    x: int
    y: int
    width: int
    height: int
    label: str = "CIN2+"

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass(frozen=True)
class SlideSpecimen:
    """One written slide: file, layout, level-0 size (width, height), mpp and its truth boxes."""

    path: Path
    layout: str
    size: tuple[int, int]
    mpp: float
    regions: tuple[SuspiciousRegion, ...]


def paint_slide(seed: int, size: tuple[int, int] = (4096, 3072), n_regions: int = 3, name: str = "slide"):  # noqa: ANN201
    """The level-0 RGB (height, width, 3) uint8 of a synthetic specimen and its truth boxes.

    Returns (rgb, regions).  Regions lie inside tissue and do not overlap.
    """
    rng = rng_for(seed, "wsi", name)
    w, h = size
    # Tissue: smooth noise at 1/32 scale, thresholded, then upsampled.
    sw, sh = max(4, w // 32), max(4, h // 32)
    field = gaussian_filter(rng.standard_normal((sh, sw)), sigma=max(sw, sh) / 10)
    yy, xx = np.mgrid[0:sh, 0:sw]
    field -= 2.0 * field.std() * (((xx / sw - 0.5) ** 2 + (yy / sh - 0.5) ** 2) * 3.0)  # islands away from the edge
    tissue_small = field > np.quantile(field, 0.5)
    tissue = zoom(tissue_small.astype(np.float32), (h / sh, w / sw), order=1)[:h, :w] > 0.5
    img = np.empty((h, w, 3), np.float32)
    img[:] = GLASS
    img += rng.normal(0.0, 2.0, (h, w, 1)).astype(np.float32)

    regions = _place_regions(rng, tissue_small, (w, h), n_regions)
    # Normal cells over the tissue.
    n_cells = int(tissue.mean() * w * h / 1400)
    ys, xs = rng.integers(0, h, n_cells), rng.integers(0, w, n_cells)
    for x, y in zip(xs, ys, strict=True):
        if not tissue[y, x] or any(r.contains(x, y) for r in regions):
            continue
        colour = EOSINOPHILIC if rng.random() < 0.45 else CYANOPHILIC
        _cell(img, rng, x, y, rng.uniform(13, 20), rng.uniform(3.0, 4.5), colour, NUCLEUS_PALE, irregular=0.05)
    # HSIL-like cells, crowded, in the suspicious regions.
    for r in regions:
        n = int(r.width * r.height / 700)
        for _ in range(n):
            x = rng.integers(r.x, r.x + r.width)
            y = rng.integers(r.y, r.y + r.height)
            colour = CYANOPHILIC if rng.random() < 0.7 else EOSINOPHILIC
            _cell(img, rng, x, y, rng.uniform(10, 14), rng.uniform(7.0, 10.0), colour, NUCLEUS_DARK, irregular=0.3)
    return np.clip(img, 0, 255).astype(np.uint8), regions


def write_slide(
    path: str | Path,
    seed: int,
    *,
    size: tuple[int, int] = (4096, 3072),
    layout: str = "subifds",
    n_regions: int = 3,
) -> SlideSpecimen:
    """Write one synthetic slide to ``path`` as a tiled JPEG pyramid; ValueError for an unknown layout."""
    import tifffile

    if layout not in ("subifds", "svs"):
        raise ValueError(f"layout must be 'subifds' or 'svs', got {layout!r}")
    path = Path(path)
    rgb, regions = paint_slide(seed, size, n_regions, name=path.stem)
    levels = [rgb]
    while max(levels[-1].shape[:2]) > 512:
        prev = levels[-1]
        levels.append(
            np.asarray(Image.fromarray(prev).resize((prev.shape[1] // 2, prev.shape[0] // 2), Image.Resampling.BOX))
        )
    res = (1e4 / MPP, 1e4 / MPP)  # pixels per centimetre
    tiled = dict(
        tile=(TILE, TILE),
        photometric="rgb",
        compression="jpeg",
        compressionargs={"level": JPEG_QUALITY},
        resolutionunit="CENTIMETER",
        metadata=None,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path, bigtiff=False) as tif:
        if layout == "subifds":
            tif.write(levels[0], subifds=len(levels) - 1, resolution=res, **tiled)
            for k, level in enumerate(levels[1:], start=1):
                d = 2**k
                tif.write(level, subfiletype=1, resolution=(res[0] / d, res[1] / d), **tiled)
        else:
            w, h = size
            head = f"Aperio Image Library v12.0.0\r\n{w}x{h} [0,0 {w}x{h}] ({TILE}x{TILE}) JPEG/RGB Q={JPEG_QUALITY}"
            tif.write(levels[0], description=f"{head}|AppMag = {APP_MAG}|MPP = {MPP}", resolution=res, **tiled)
            thumb = levels[-1]
            tif.write(
                thumb,
                description=f"{head} -> {thumb.shape[1]}x{thumb.shape[0]} - |AppMag = {APP_MAG}|MPP = {MPP}",
                photometric="rgb",
                compression="jpeg",
                compressionargs={"level": JPEG_QUALITY},
                metadata=None,
            )
            for k, level in enumerate(levels[1:], start=1):
                desc = f"{head} -> {level.shape[1]}x{level.shape[0]} - |AppMag = {APP_MAG}|MPP = {MPP * 2**k}"
                tif.write(level, description=desc, **tiled)
    return SlideSpecimen(path=path, layout=layout, size=size, mpp=MPP, regions=tuple(regions))


def write_demo_slides(folder: str | Path, seed: int, size: tuple[int, int] = (4096, 3072)) -> list[SlideSpecimen]:
    """Two specimens, one per layout (``WSI01.tif`` generic pyramid, ``WSI02.svs`` Aperio), and ``wsi_regions.csv``.

    The CSV lists the truth boxes: file, x, y, width, height (level-0 pixels), label.
    """
    folder = Path(folder)
    slides = [
        write_slide(folder / "WSI01.tif", seed, size=size, layout="subifds", n_regions=3),
        write_slide(folder / "WSI02.svs", seed, size=size, layout="svs", n_regions=2),
    ]
    with open(folder / REGIONS_CSV, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["file", "x", "y", "width", "height", "label"])
        for s in slides:
            for r in s.regions:
                out.writerow([s.path.name, r.x, r.y, r.width, r.height, r.label])
    return slides


def _place_regions(
    rng: np.random.Generator, tissue_small: np.ndarray, size: tuple[int, int], n: int
) -> list[SuspiciousRegion]:
    """``n`` non-overlapping boxes (1/10 of the short side, at least a 256-pixel field) wholly on tissue."""
    w, h = size
    sh, sw = tissue_small.shape
    side = max(288, min(w, h) // 10)
    out: list[SuspiciousRegion] = []
    for _ in range(2000):
        if len(out) == n:
            break
        bw, bh = int(side * rng.uniform(0.8, 1.3)), int(side * rng.uniform(0.8, 1.3))
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        c0, c1 = x * sw // w, min(sw, (x + bw) * sw // w + 1)
        r0, r1 = y * sh // h, min(sh, (y + bh) * sh // h + 1)
        if not tissue_small[r0:r1, c0:c1].all():
            continue
        box = SuspiciousRegion(x, y, bw, bh)
        if any(_overlap(box, o, margin=side // 2) for o in out):
            continue
        out.append(box)
    if len(out) < n:
        raise ValueError(f"could not place {n} suspicious regions on the tissue (placed {len(out)})")
    return out


def _overlap(a: SuspiciousRegion, b: SuspiciousRegion, margin: int) -> bool:
    return not (
        a.x + a.width + margin <= b.x
        or b.x + b.width + margin <= a.x
        or a.y + a.height + margin <= b.y
        or b.y + b.height + margin <= a.y
    )


def _cell(
    img: np.ndarray,
    rng: np.random.Generator,
    x: int,
    y: int,
    r_cyto: float,
    r_nuc: float,
    cyto: np.ndarray,
    nucleus: np.ndarray,
    irregular: float,
) -> None:
    """Blend one cell (translucent cytoplasm, opaque nucleus with a wobbly rim) centred at (x, y)."""
    h, w = img.shape[:2]
    rr = int(r_cyto) + 2
    x0, x1, y0, y1 = max(0, x - rr), min(w, x + rr + 1), max(0, y - rr), min(h, y + rr + 1)
    if x0 >= x1 or y0 >= y1:
        return
    gy, gx = np.mgrid[y0:y1, x0:x1]
    dx, dy = gx - x, gy - y
    dist = np.hypot(dx, dy)
    ang = np.arctan2(dy, dx)
    phase = rng.uniform(0, 2 * np.pi, 2)
    wob = 1.0 + irregular * (0.6 * np.sin(3 * ang + phase[0]) + 0.4 * np.sin(5 * ang + phase[1]))
    patch = img[y0:y1, x0:x1]
    cyto_alpha = np.clip(r_cyto - dist, 0, 1)[..., None] * 0.55
    patch[:] = patch * (1 - cyto_alpha) + cyto * cyto_alpha
    nuc_alpha = np.clip(r_nuc * wob - dist, 0, 1)[..., None] * 0.9
    grain = rng.normal(0, 8, patch.shape[:2])[..., None]
    patch[:] = patch * (1 - nuc_alpha) + (nucleus + grain) * nuc_alpha


def main(argv: list[str] | None = None) -> int:
    """``python -m study.demo.wsi DIR [--seed N] [--size WxH]``: write the demo slides and their truth boxes."""
    import argparse

    parser = argparse.ArgumentParser(description="Write the synthetic whole-slide demo specimens.")
    parser.add_argument("folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", default="4096x3072", help="level-0 WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must be WIDTHxHEIGHT, got {args.size!r}")
    for s in write_demo_slides(args.folder, args.seed, size=(w, h)):
        print(f"{s.path}: {s.layout}, {s.size[0]}x{s.size[1]} at {s.mpp} um/px, {len(s.regions)} suspicious regions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
