"""Editing a region mask: polygon to mask, mask to polygon, brush strokes (no Qt).

Coordinates are pixels: x = column, y = row, the centre of pixel (r, c) at
(c + 0.5, r + 0.5), as the viewer draws it.  scikit-image does the raster work
(``skimage.draw.disk``, ``skimage.measure.find_contours``,
``skimage.measure.approximate_polygon`` (Douglas-Peucker)); polygons are filled by
scanlines here (tested against ``skimage.draw.polygon``).
"""

from __future__ import annotations

import numpy as np

# scipy.ndimage and scikit-image are imported where they are used: this module is imported by
# the reading screen of every study, and they cost about 0.3 s of app start-up.


def load_libraries() -> None:
    """Import the scipy and scikit-image parts the functions below use.  The first use costs
    seconds (scikit-image's ``approximate_polygon`` pulls in ``scipy.signal``; its lazy loader
    imports a submodule on first attribute access): the editor calls this off the GUI thread
    when it opens, before the reader's first stroke."""
    from scipy import ndimage
    from skimage import draw, measure

    # An attribute access is what makes the lazy loader import the submodule behind it.
    for module, name in ((measure, "find_contours"), (measure, "approximate_polygon"), (measure, "perimeter")):
        getattr(module, name)
    getattr(draw, "disk")  # noqa: B009 - the access is the point
    getattr(ndimage, "label")  # noqa: B009


CONTOUR_TOLERANCE_PX = 0.8  # Douglas-Peucker tolerance when a mask becomes an editable polygon ...
CONTOUR_TOLERANCE_FRACTION = 0.005  # ... or this fraction of the image's larger side, if more
THIN_TO = 400  # outline points handed to Douglas-Peucker
MAX_VERTICES = 96  # an editable outline has at most this many vertices (the tolerance grows)


def polygon_mask(vertices: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W): the pixels whose centres lie inside the closed polygon ``vertices`` (K, 2) of (x, y).

    Even-odd rule, as ``skimage.draw.polygon``, by scanlines: every edge crossing a row's
    centre line toggles the pixels right of the crossing (a cumulative sum), so a 1024 x 1024
    region takes milliseconds where ``skimage.draw.polygon`` takes half a second.
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    h, w = shape
    if len(v) < 3:
        return np.zeros(shape, dtype=bool)
    mask = np.zeros(shape, dtype=bool)
    # Work inside the polygon's bounding box only.
    r0 = max(0, int(np.floor(v[:, 1].min())) - 1)
    r1 = min(h, int(np.ceil(v[:, 1].max())) + 1)
    c0 = max(0, int(np.floor(v[:, 0].min())) - 1)
    c1 = min(w, int(np.ceil(v[:, 0].max())) + 1)
    if r0 >= r1 or c0 >= c1:
        return mask
    x0, y0 = v[:, 0] - c0, v[:, 1] - r0
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    h, w = r1 - r0, c1 - c0
    keep = y0 != y1  # a horizontal edge crosses no centre line
    x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
    # per edge, the rows whose centre r + 0.5 lies in [low y, high y): all edges at once
    start = np.clip(np.ceil(np.minimum(y0, y1) - 0.5), 0, h).astype(np.int64)
    stop = np.clip(np.ceil(np.maximum(y0, y1) - 0.5), 0, h).astype(np.int64)
    counts = np.maximum(stop - start, 0)
    edge = np.repeat(np.arange(len(counts)), counts)
    rows = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + start[edge]
    xs = x0[edge] + (rows + 0.5 - y0[edge]) * (x1[edge] - x0[edge]) / (y1[edge] - y0[edge])
    cols = np.clip(np.ceil(xs - 0.5).astype(np.int64), 0, w)  # first pixel centre right of the crossing
    # each crossing toggles the pixels from its column on: the parity of crossings per cell
    toggles = (np.bincount(rows * (w + 1) + cols, minlength=h * (w + 1)) & 1).astype(np.uint8).reshape(h, w + 1)
    mask[r0:r1, c0:c1] = np.bitwise_xor.accumulate(toggles, axis=1)[:, :w].view(bool)
    return mask


def mask_polygon(mask: np.ndarray, tolerance: float | None = None) -> np.ndarray:
    """(K, 2) (x, y) vertices of the outline of the mask's largest connected part
    (simplified with ``tolerance`` px, by default scaled to the image, and coarser until it
    has at most ``MAX_VERTICES``, so a large photo does not get hundreds of handles; no
    closing repeat); (0, 2) for an empty mask."""
    m = np.asarray(mask, dtype=bool)
    if tolerance is None:
        tolerance = max(CONTOUR_TOLERANCE_PX, CONTOUR_TOLERANCE_FRACTION * max(m.shape))
    if not m.any():
        return np.zeros((0, 2))
    from scipy import ndimage
    from skimage import measure

    labels, _ = ndimage.label(m)  # 4-connected parts
    biggest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    rows, cols = ndimage.find_objects(labels)[biggest - 1]  # trace the part's box only
    part = np.pad(labels[rows, cols] == biggest, 1)
    contours = measure.find_contours(part.astype(np.float32), 0.5)
    contour = max(contours, key=len)
    # skimage's Douglas-Peucker is slow on long outlines (a second for 4000 points): thin the
    # outline to at most ``THIN_TO`` points first (a fraction of a pixel apart on any real edge).
    step = max(1, len(contour) // THIN_TO)
    if step > 1:
        contour = np.vstack([contour[::step], contour[-1:]])
    simple = measure.approximate_polygon(contour, tolerance)[:-1]
    while len(simple) > MAX_VERTICES:  # a ragged brushed edge: fewer, coarser vertices to drag
        tolerance *= 1.5
        simple = measure.approximate_polygon(contour, tolerance)[:-1]
    contour = simple
    # find_contours gives (row, col) in the padded box; pixel centres sit at +0.5.
    return np.stack([contour[:, 1] - 1 + 0.5 + cols.start, contour[:, 0] - 1 + 0.5 + rows.start], axis=1)


def paint_disc(mask: np.ndarray, x: float, y: float, radius: float, value: bool) -> bool:
    """Set (brush, ``value`` True) or clear (eraser) a disc of ``radius`` px at (x, y) in place.

    Returns True when a pixel changed."""
    from skimage import draw

    rr, cc = draw.disk((y - 0.5, x - 0.5), max(0.5, radius), shape=mask.shape)
    if rr.size == 0:
        return False
    changed = bool((mask[rr, cc] != value).any())
    mask[rr, cc] = value
    return changed


def paint_stroke(mask: np.ndarray, points: np.ndarray, radius: float, value: bool) -> bool:
    """A brush stroke through ``points`` (K, 2) (x, y): discs every half radius along each segment."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    changed = False
    for k in range(len(pts)):
        a = pts[max(0, k - 1)]
        b = pts[k]
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / max(0.5, radius / 2))))
        for t in np.linspace(0.0, 1.0, n + 1) if k else (0.0,):
            x, y = a + (b - a) * t
            changed |= paint_disc(mask, x, y, radius, value)
    return changed


def circularity(mask: np.ndarray) -> float:
    """4 pi area / perimeter^2 (1 for a disc; ``skimage.measure.regionprops`` perimeter); NaN when empty."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return float("nan")
    from skimage import measure

    perimeter = measure.perimeter(m)
    return float(4 * np.pi * m.sum() / perimeter**2) if perimeter > 0 else float("nan")
