"""Region (segmentation) reads: agreement with the truth mask, between readers, with the AI,
and disease detection from the region's measurement.

Pure functions on numpy masks (bool (H, W), or (N, H, W) per slice).  Input:
a list of :class:`study.region.RegionRead`, the truth masks by case id, and
optionally the AI's masks by case id (probabilities in [0, 1] or bool; cut at
0.5 and resized to the truth's grid when the AI stored them smaller).

Definitions (each with its source):
- Dice (1945) = 2|A∩B| / (|A| + |B|); IoU (Jaccard 1912) = |A∩B| / |A∪B|.
  **Two empty masks agree perfectly: Dice = IoU = 1** (both say "no region";
  the same convention as MONAI's ``ignore_empty=False`` / the Medical
  Segmentation Decathlon).  One empty and one not: 0.
- HD95: the 95th percentile of the symmetric surface distances (Huttenlocher
  et al. 1993 for the Hausdorff distance; percentile form as in MedPy's
  ``hd95``): boundary pixels of each mask (mask minus its 3x3 erosion), the
  distance in mm from every boundary pixel of one mask to the nearest of the
  other's (Euclidean distance transform, Maurer 2003, scipy), both directions
  pooled, 95th percentile.  0 when both masks are empty; NaN when exactly one
  is (undefined: reported as a count, left out of means).
- Series in 3-D (when the caller gives the case's voxel spacing (slice, row,
  column) in mm, ``voxel_mm``; ``study.region.series_voxel_mm`` takes the slice
  spacing from ImagePositionPatient along the slice normal, never SliceThickness):
  Dice and IoU over the volume; HD95 on the 3-D surfaces (voxels minus their
  3x3x3 erosion) with the Euclidean distance transform sampled at the voxel
  spacing (``scipy.ndimage.distance_transform_edt(..., sampling=)``), so a
  0.3 mm pixel and a 3 mm slice step weigh as they do in the patient; volume in
  mm³ = voxels × slice × row × column spacing, and in mL (mm³ / 1000).  As the
  Medical Segmentation Decathlon (Antonelli et al. 2022, Nat Commun 13:4128)
  and Metrics Reloaded (Maier-Hein et al. 2024, Nat Methods 21:195-212) score
  3-D segmentations.  Without ``voxel_mm`` a series is taken slice by slice
  (summed areas, in-plane HD95), as 2-D images always are.
- Area in mm² = pixels × row spacing × column spacing; circularity 4πA/P²
  (1 for a disc), P by the Cauchy-Crofton formula L = ½∫∫ n(θ, p) dp dθ
  discretised on four line directions (0°, 45°, 90°, 135°; Crofton 1868,
  as in scikit-image's ``perimeter_crofton``): exact for a disc, +-5 % on
  polygons.
- Mean ± SD with a t-based 95% CI of the mean; Bland & Altman (1986) for
  area against the truth area (``study.stats.numeric``).
- Unaided→aided change: the paired per-case Dice difference per reader,
  Wilcoxon (1945) signed-rank test (scipy, two-sided, zero differences
  dropped as Wilcoxon did: ``zero_method="wilcox"``).
- Detection: the empirical AUC of the FAZ area (a series study: the volume;
  larger = more suspicious) per
  reader and mode and for the AI, and the AI vs each reader by DeLong, DeLong &
  Clarke-Pearson (1988) on the cases both measured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np
from scipy import ndimage, stats

from study.region import ML_FROM_MM3, RegionRead
from study.stats.auc import delong_cov, placements
from study.stats.numeric import bland_altman
from study.stats.segmentation import dice, iou

__all__ = [
    "dice",
    "iou",
    "hd95",
    "surface_distances",
    "area_mm2",
    "volume_mm3",
    "volume_key",
    "circularity",
    "as_mask",
    "same_grid",
    "mean_sd_ci",
    "case_metrics",
    "reader_summary",
    "inter_reader_dice",
    "aided_change",
    "detection",
    "analyze_regions",
]


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Boundary pixels (voxels) of a 2-D (3-D) mask: the mask minus its 3x3 (3x3x3) erosion
    (pixels outside the image count as background, so a region touching the first or last
    slice has its surface there)."""
    return mask & ~ndimage.binary_erosion(mask, structure=np.ones((3,) * mask.ndim, bool), border_value=0)


def surface_distances(
    a: np.ndarray, b: np.ndarray, spacing_mm: tuple[float, float] | tuple[float, float, float] | None = None
) -> np.ndarray:
    """Distances (mm, or pixels without spacing) from every boundary pixel of ``a`` to the
    nearest boundary pixel of ``b``, then from ``b`` to ``a``, pooled (1-D array).

    ``spacing_mm``: (row, column) mm: 2-D masks, and 3-D masks (N, H, W) slice by slice
    (in-plane distances); (slice, row, column) mm: 3-D masks as one volume (3-D surfaces,
    anisotropic voxels).  Raises ValueError when the shapes differ or a 3-number spacing
    meets a 2-D mask.  Empty when either mask is empty.
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} vs {b.shape}")
    volume = spacing_mm is not None and len(spacing_mm) == 3
    if volume and a.ndim != 3:
        raise ValueError(f"a (slice, row, column) spacing needs (N, H, W) masks, got {a.shape}")
    if a.ndim == 3 and not volume:
        parts = [surface_distances(x, y, spacing_mm) for x, y in zip(a, b) if x.any() or y.any()]
        return np.concatenate(parts) if parts else np.empty(0)
    if not a.any() or not b.any():
        return np.empty(0)
    # Only the box around both masks matters (one background pixel of margin): much less work
    # on large images with small regions, same distances.
    box = tuple(slice(max(int(idx.min()) - 1, 0), int(idx.max()) + 2) for idx in np.nonzero(a | b))
    a, b = a[box], b[box]
    sampling = spacing_mm or (1.0,) * a.ndim
    ba, bb = _boundary(a), _boundary(b)
    to_b = ndimage.distance_transform_edt(~bb, sampling=sampling)
    to_a = ndimage.distance_transform_edt(~ba, sampling=sampling)
    return np.concatenate([to_b[ba], to_a[bb]])


def hd95(
    a: np.ndarray,
    b: np.ndarray,
    spacing_mm: tuple[float, float] | tuple[float, float, float] | None = None,
    percentile: float = 95,
) -> float:
    """95th-percentile symmetric Hausdorff distance in mm (pixels without spacing); see the module doc.

    ``spacing_mm`` as :func:`surface_distances`: (slice, row, column) mm scores (N, H, W)
    masks as volumes.  ``percentile=100`` gives the classic Hausdorff distance.  0 for two
    empty masks, NaN when exactly one is empty.
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if not a.any() and not b.any():
        return 0.0
    d = surface_distances(a, b, spacing_mm)
    if d.size == 0 or not a.any() or not b.any():
        return float("nan")
    return float(np.percentile(d, percentile))


def area_mm2(mask: np.ndarray, spacing_mm: tuple[float, float] | None) -> float:
    """Area in mm² (summed over slices); in pixels when the spacing is None."""
    n = float(np.count_nonzero(mask))
    return n if spacing_mm is None else n * spacing_mm[0] * spacing_mm[1]


def volume_mm3(mask: np.ndarray, voxel_mm: tuple[float, float, float]) -> float:
    """Volume in mm³ of an (N, H, W) mask: voxels × slice × row × column spacing (mm)."""
    return float(np.count_nonzero(mask)) * float(np.prod(voxel_mm))


# Below 1 mL (ML_FROM_MM3) of the largest truth volume the report gives volumes in mm³: a
# 15 mm³ lesion would print as 0.015 mL and its errors as +0.000.


def volume_key(rows: Sequence[dict]) -> str | None:
    """The volume column the summaries use: "volume_ml", or "volume_mm3" when every truth
    volume is under 1 mL; None unless every row has a volume (2-D images, or a study mixing
    images and series: areas then, as for images)."""
    if not rows or not all("volume_mm3" in r for r in rows):
        return None
    return "volume_ml" if max(r["truth_volume_mm3"] for r in rows) >= ML_FROM_MM3 else "volume_mm3"


def circularity(mask: np.ndarray) -> float:
    """4πA/P² of a 2-D mask (module doc); 1 for a disc, lower for elongated or wavy outlines, 0 when empty."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 3:  # the slice with the largest region
        mask = mask[int(np.argmax(mask.reshape(len(mask), -1).sum(1)))]
    if not mask.any():
        return 0.0
    p = np.pad(mask, 1)
    rows = np.count_nonzero(p[:, 1:] != p[:, :-1])  # crossings of horizontal lines, 1 px apart
    cols = np.count_nonzero(p[1:] != p[:-1])
    diag = np.count_nonzero(p[1:, 1:] != p[:-1, :-1])  # lines at 45°, 1/√2 px apart
    anti = np.count_nonzero(p[1:, :-1] != p[:-1, 1:])
    perimeter = 0.5 * (np.pi / 4) * (rows + cols + (diag + anti) / np.sqrt(2))
    return float(min(1.0, 4 * np.pi * np.count_nonzero(mask) / perimeter**2))


def as_mask(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A bool mask of ``shape`` from the AI's probabilities in [0, 1] (cut at 0.5) or a bool mask.
    Only for the AI's output: a reader's drawing is never resampled (:func:`same_grid`).

    Probabilities stored at reduced size (the AI's ``cams``, (N, h, w)) are
    resized bilinearly to the image grid first.  A single-frame (1, H, W) input
    for an (H, W) shape is squeezed.
    """
    v = np.asarray(values)
    if v.ndim == 3 and len(shape) == 2:
        if v.shape[0] != 1:
            raise ValueError(f"a {v.shape[0]}-slice mask cannot become one {shape} plane")
        v = v[0]
    if v.shape != tuple(shape):
        if v.ndim == 3:
            return np.stack([as_mask(s, shape[1:]) for s in v])
        zoom = (shape[0] / v.shape[0], shape[1] / v.shape[1])
        v = ndimage.zoom(v.astype(np.float32), zoom, order=1, grid_mode=True, mode="nearest")
    return v >= 0.5 if v.dtype != bool else v


def same_grid(mask: np.ndarray, truth_shape: tuple[int, ...], what: str) -> np.ndarray:
    """A drawn mask as bool on the truth's grid, never resampled: a single-frame (1, H, W) mask
    for an (H, W) truth is squeezed, any other shape difference raises ValueError naming ``what``
    (e.g. "case c1, reader R1") and both shapes.  Scaling a drawing to another grid would turn
    a 1,096 px outline into 27,476 px and report a Dice for pixels nobody drew."""
    m = np.asarray(mask, dtype=bool)
    if m.ndim == 3 and len(truth_shape) == 2 and m.shape[0] == 1:
        m = m[0]
    if m.shape != tuple(truth_shape):
        raise ValueError(
            f"{what}: mask shape {m.shape} does not match the truth mask {tuple(truth_shape)} "
            "(masks are compared on the image's grid, never resampled)"
        )
    return m


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601  # fixed, so a report run twice prints the same interval; stored with it
MIN_CI_N = 3  # fewer values: an interval says nothing (a t-interval on n=2 spans ±6.3 SE)


def mean_sd_ci(
    values: Iterable[float], level: float = 0.95, bounded: bool = False, seed: int = BOOTSTRAP_SEED
) -> dict[str, float | int | str | None]:
    """n, mean, SD (n-1) and a ``level`` CI of the mean over the finite values, with ``ci_method``.

    Unbounded measures (area error): the t-interval.  ``bounded`` measures (Dice and IoU on
    [0, 1], HD95 >= 0): the percentile bootstrap of the mean (Efron & Tibshirani 1993, ch. 13;
    ``BOOTSTRAP_RESAMPLES`` resamples, ``seed`` kept as ``ci_seed``), which stays inside
    their range (it never leaves the values' own range) where a t-interval does not (Dice 0.31 ± 0.39 on n=2 gave [-3.2, 3.8]).
    With fewer than ``MIN_CI_N`` values the CI is NaN and ``ci_method`` is "n too small"."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    n = len(x)
    nan = float("nan")
    if n == 0:
        return {"n": 0, "mean": nan, "sd": nan, "ci_low": nan, "ci_high": nan, "ci_method": "n too small"}
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else nan
    out = {"n": n, "mean": mean, "sd": sd, "ci_low": nan, "ci_high": nan, "ci_method": "n too small"}
    if n < MIN_CI_N:
        return out
    if bounded:
        rng = np.random.default_rng(seed)
        means = x[rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))].mean(axis=1)
        low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
        out.update(
            ci_low=float(low),
            ci_high=float(high),
            ci_method=f"percentile bootstrap ({BOOTSTRAP_RESAMPLES} resamples, seed {seed})",
            ci_seed=seed,
        )
        return out
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
    out.update(ci_low=mean - half, ci_high=mean + half, ci_method="t")
    return out


def _metrics(mask, truth, spacing, hd95_spacing=None) -> dict[str, float]:
    """The row's figures; ``hd95_spacing`` (slice, row, column) mm takes HD95 in 3-D."""
    area, truth_area = area_mm2(mask, spacing), area_mm2(truth, spacing)
    return {
        "dice": dice(mask, truth),
        "iou": iou(mask, truth),
        "hd95": hd95(mask, truth, hd95_spacing or spacing),
        "area": area,
        "truth_area": truth_area,
        "area_error": area - truth_area,
        "circularity": circularity(mask),
    }


def _metrics_3d(mask, truth, voxel: tuple[float, float, float]) -> dict[str, float]:
    """Dice and IoU over the volume, 3-D HD95 at the voxel spacing, volumes in mm³ and mL; the
    summed slice areas stay (the reading screen shows them)."""
    row = _metrics(mask, truth, voxel[1:], voxel)
    volume, truth_volume = volume_mm3(mask, voxel), volume_mm3(truth, voxel)
    return row | {
        "slice_mm": float(voxel[0]),
        "volume_mm3": volume,
        "truth_volume_mm3": truth_volume,
        "volume_error_mm3": volume - truth_volume,
        "volume_ml": volume / ML_FROM_MM3,
        "truth_volume_ml": truth_volume / ML_FROM_MM3,
        "volume_error_ml": (volume - truth_volume) / ML_FROM_MM3,
    }


def _units(spacing) -> dict[str, str]:
    """The units of a row's areas (mm² or px) and of its HD95 (mm or px)."""
    return {"area_unit": "mm²", "hd95_unit": "mm"} if spacing else {"area_unit": "px", "hd95_unit": "px"}


def _case_figures(mask, truth, case_id: str, spacing, voxel_mm, what: str, read_spacing=None) -> dict:
    """The metric columns of one row: in 3-D when ``voxel_mm`` has the case, else in the plane.

    ValueError naming ``what`` when a read's stored pixel spacing is not the series' (the
    figures would mix two pixel sizes)."""
    voxel = (voxel_mm or {}).get(case_id)
    if voxel is None or truth.ndim != 3:
        return {**_metrics(mask, truth, spacing), **_units(spacing)}
    if read_spacing is not None and not np.allclose(read_spacing, voxel[1:], rtol=1e-6, atol=0):
        raise ValueError(
            f"{what}: the read's pixel spacing {tuple(read_spacing)} mm is not the series' "
            f"{tuple(voxel[1:])} mm (was the study's spacing_mm changed after reading?)"
        )
    return {**_metrics_3d(mask, truth, voxel), **_units(voxel), "hd95_dims": "3-D"}


def case_metrics(
    reads: Sequence[RegionRead],
    truth: Mapping[str, np.ndarray],
    ai: Mapping[str, np.ndarray] | None = None,
    spacing_mm: tuple[float, float] | None = None,
    voxel_mm: Mapping[str, tuple[float, float, float]] | None = None,
) -> list[dict]:
    """One row per read (and one per AI mask, reader "AI", mode "AI") with Dice, IoU, HD95,
    area, truth area, area error and circularity; areas in mm² (HD95 in mm) when the
    read's spacing (or ``spacing_mm``) is known, else in pixels (``area_unit`` and
    ``hd95_unit`` say which).

    ``voxel_mm``: case id -> (slice, row, column) mm of a series: that case is scored in 3-D
    (module doc; ``hd95_dims`` "3-D", plus ``slice_mm``, ``volume_mm3``, ``truth_volume_mm3``,
    ``volume_error_mm3`` and the same in mL).  Raises KeyError naming the case when a read has
    no truth mask, ValueError naming the case, reader and both shapes when a read's mask is
    not on the truth's grid (:func:`same_grid`; only the AI's reduced-size probabilities are
    resized), or when a read's stored pixel spacing is not its series'.
    """
    rows = []
    for r in reads:
        if r.case_id not in truth:
            raise KeyError(f"case {r.case_id}: no truth mask (truth_mask column of cases.csv)")
        t = np.asarray(truth[r.case_id], bool)
        what = f"case {r.case_id}, reader {r.reader} ({r.mode})"
        mask = same_grid(r.mask, t.shape, what)
        sp = r.spacing_mm or spacing_mm
        rows.append(
            {
                "reader": r.reader,
                "group": r.group,
                "mode": r.mode,
                "session": r.session,
                "case_id": r.case_id,
                **_case_figures(mask, t, r.case_id, sp, voxel_mm, what, r.spacing_mm),
                "likelihood": r.likelihood,
                "accepted_unchanged": r.accepted_unchanged,
                "edit_ms": r.edit_ms,
                "edit_count": r.edit_count,
            }
        )
    for case_id, values in (ai or {}).items():
        if case_id not in truth:
            continue
        t = np.asarray(truth[case_id], bool)
        rows.append(
            {
                "reader": "AI",
                "group": "AI",
                "mode": "AI",
                "session": 0,
                "case_id": case_id,
                **_case_figures(as_mask(values, t.shape), t, case_id, spacing_mm, voxel_mm, f"case {case_id}, AI"),
                "likelihood": None,
                "accepted_unchanged": None,
                "edit_ms": 0,
                "edit_count": 0,
            }
        )
    return rows


def reader_summary(rows: Sequence[dict]) -> list[dict]:
    """Per (reader, mode): Dice, IoU, HD95 (mean, SD, 95% CI), area error and Bland-Altman of area vs
    truth area; when every row has a volume (:func:`volume_key`), also ``volume_error`` and
    ``volume_bland_altman`` in ``volume_unit`` (mL or mm³)."""
    key = volume_key(rows)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["reader"], row["mode"])].append(row)
    out = []
    for (reader, mode), rs in sorted(groups.items()):
        entry = {"reader": reader, "group": rs[0]["group"], "mode": mode, "n": len(rs)}
        for name in ("dice", "iou", "hd95", "area_error"):
            # Dice, IoU on [0, 1] and HD95 >= 0: a bootstrap interval keeps to their range; area error is signed.
            entry[name] = mean_sd_ci((r[name] for r in rs), bounded=name != "area_error")
        entry["hd95_undefined"] = sum(1 for r in rs if not np.isfinite(r["hd95"]))
        ba = bland_altman([r["area"] for r in rs], [r["truth_area"] for r in rs])
        entry["bland_altman"] = {k: ba[k] for k in ("n", "bias", "bias_ci95", "sd", "loa")}
        if key is not None:
            entry["volume_unit"] = "mL" if key == "volume_ml" else "mm³"
            entry["volume_error"] = mean_sd_ci(r[key] - r[f"truth_{key}"] for r in rs)
            ba = bland_altman([r[key] for r in rs], [r[f"truth_{key}"] for r in rs])
            entry["volume_bland_altman"] = {k: ba[k] for k in ("n", "bias", "bias_ci95", "sd", "loa")}
        entry["accepted_unchanged"] = sum(1 for r in rs if r["accepted_unchanged"])
        out.append(entry)
    return out


def inter_reader_dice(reads: Sequence[RegionRead]) -> dict[str, dict]:
    """Per mode: Dice between every pair of readers on the cases both read (mean per pair, and over pairs)."""
    by_mode: dict[str, dict[str, dict[str, np.ndarray]]] = defaultdict(lambda: defaultdict(dict))
    for r in reads:
        by_mode[r.mode][r.reader][r.case_id] = np.asarray(r.mask, bool)
    out = {}
    for mode, readers in sorted(by_mode.items()):
        pairs = {}
        for a, b in combinations(sorted(readers), 2):
            common = sorted(set(readers[a]) & set(readers[b]))
            if common:
                pairs[f"{a}|{b}"] = float(np.mean([dice(readers[a][c], readers[b][c]) for c in common]))
        out[mode] = {"pairs": pairs, **mean_sd_ci(pairs.values(), bounded=True)}
    return out


def aided_change(rows: Sequence[dict], metric: str = "dice") -> list[dict]:
    """Per reader: the aided minus unaided ``metric`` on the cases read both ways, with Wilcoxon's signed-rank test.

    p is NaN with fewer than two nonzero differences (the test is undefined).
    """
    per: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r["mode"] in ("unaided", "aided"):
            per[r["reader"]][r["mode"]][r["case_id"]] = r[metric]
    out = []
    for reader, modes in sorted(per.items()):
        common = sorted(set(modes["unaided"]) & set(modes["aided"]))
        d = np.array([modes["aided"][c] - modes["unaided"][c] for c in common], float)
        p = float("nan")
        if np.count_nonzero(d) >= 2:
            p = float(stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)
        out.append(
            {
                "reader": reader,
                "metric": metric,
                "n_pairs": len(d),
                "n_aided": len(modes["aided"]),
                "unaided_mean": float(np.mean([modes["unaided"][c] for c in common])) if common else float("nan"),
                "aided_mean": float(np.mean([modes["aided"][c] for c in common])) if common else float("nan"),
                "mean_change": float(d.mean()) if len(d) else float("nan"),
                "median_change": float(np.median(d)) if len(d) else float("nan"),
                "wilcoxon_p": p,
            }
        )
    return out


def detection(rows: Sequence[dict], labels: Mapping[str, int], measure: str = "area") -> list[dict]:
    """AUC of the region ``measure`` (default area; larger = diseased) per reader and mode, and for the AI,
    with the DeLong (1988) comparison of each reader-mode against the AI on their common cases.
    """
    per: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in rows:
        if r["case_id"] in labels:
            per[(r["reader"], r["mode"])][r["case_id"]] = r[measure]
    ai = per.get(("AI", "AI"), {})
    out = []
    for (reader, mode), values in sorted(per.items()):
        cases = sorted(values)
        y = np.array([labels[c] for c in cases])
        entry = {"reader": reader, "mode": mode, "n": len(cases), "auc": float("nan"), "se": float("nan")}
        if 0 < y.sum() < len(y):
            p = placements(y, np.array([values[c] for c in cases]))
            entry["auc"], entry["se"] = float(p.auc[0]), float(np.sqrt(delong_cov(p)[0, 0]))
        common = [c for c in cases if c in ai]
        yc = np.array([labels[c] for c in common])
        if reader != "AI" and common and 0 < yc.sum() < len(yc):
            p = placements(yc, np.array([[values[c] for c in common], [ai[c] for c in common]]))
            cov = delong_cov(p)
            var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
            diff = float(p.auc[0] - p.auc[1])
            z = diff / np.sqrt(var) if var > 0 else float("nan")
            entry["vs_ai"] = {
                "n": len(common),
                "auc_difference": diff,
                "z": float(z),
                "p": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
            }
        out.append(entry)
    return out


def analyze_regions(
    reads: Sequence[RegionRead],
    truth: Mapping[str, np.ndarray],
    labels: Mapping[str, int] | None = None,
    ai: Mapping[str, np.ndarray] | None = None,
    spacing_mm: tuple[float, float] | None = None,
    voxel_mm: Mapping[str, tuple[float, float, float]] | None = None,
) -> dict:
    """Everything above for one study: per-case rows, per reader-mode summaries (the AI as a reader),
    inter-reader Dice, unaided→aided change, and detection AUCs when disease ``labels`` (case -> 0/1) are given.

    ``voxel_mm`` (case id -> (slice, row, column) mm) scores those series in 3-D
    (:func:`case_metrics`); when every row has a volume, ``volume`` names the column the
    summaries and the detection AUCs use ({"key": "volume_ml" | "volume_mm3", "unit": "mL" | "mm³"}),
    else it is None and they use the area.
    """
    rows = case_metrics(reads, truth, ai, spacing_mm, voxel_mm)
    key = volume_key(rows)
    result = {
        "cases": rows,
        "readers": reader_summary(rows),
        "inter_reader": inter_reader_dice(reads),
        "aided_change": aided_change(rows),
        "volume": None if key is None else {"key": key, "unit": "mL" if key == "volume_ml" else "mm³"},
    }
    if labels:
        if key is None:
            truth_rows = [
                {"reader": "truth", "mode": "truth", "case_id": c, "area": area_mm2(m, spacing_mm)}
                for c, m in truth.items()
            ]
            result["detection"] = detection([*rows, *truth_rows], labels)
        else:
            scale = ML_FROM_MM3 if key == "volume_ml" else 1.0
            truth_rows = [
                {"reader": "truth", "mode": "truth", "case_id": c, key: volume_mm3(m, voxel_mm[c]) / scale}
                for c, m in truth.items()
                if voxel_mm and c in voxel_mm
            ]
            result["detection"] = detection([*rows, *truth_rows], labels, measure=key)
    return result
