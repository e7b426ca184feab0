"""Export folder and PDF section for region (segmentation) studies.

Files: ``region_cases.csv`` (one row per read and per AI mask: Dice, IoU,
HD95, area, truth area, area error, circularity, likelihood, edit figures; on a
series also the slice spacing and the volumes in mm³ and mL, Dice over the
volume and HD95 in 3-D),
``region_readers.csv`` (per reader and mode: means, SDs, 95% CIs,
Bland-Altman of area, and of volume on series), ``region_results.json`` (everything of
:func:`study.stats.regions.analyze_regions`) and ``report.pdf`` whose region
section has: the summary tables, a Dice box plot per reader and mode, a
Bland-Altman plot of area (series: volume) against the truth's, and overlays of the best and
worst cases (truth, readers' and AI contours on the image).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from study.errors import StudyError
from study.export.front import export_facts, front_matter
from study.export.pdf import BOTTOM, TOP, Flow, status_text
from study.progress import ReadingProgress
from study.region import ML_FROM_MM3, RegionRead
from study.stats.analysis import jsonable
from study.stats.regions import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    MIN_CI_N,
    analyze_regions,
    as_mask,
    same_grid,
)

if TYPE_CHECKING:
    from study.protocol import Protocol

FILES = ("region_cases.csv", "region_readers.csv", "region_results.json", "report.pdf")
MODE_COLORS = {"unaided": "#1f77b4", "aided": "#ff7f0e", "AI": "#d62728"}
TRUTH_COLOR = "#2ca02c"


def _fmt(s: dict, digits: int = 3) -> str:
    if not s or s.get("n", 0) == 0 or not np.isfinite(s["mean"]):
        return "-"
    if np.isfinite(s["ci_low"]):
        ci = f" [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"
    else:  # fewer than 3 values: an interval would say nothing (study.stats.regions.mean_sd_ci)
        ci = " [n too small]" if s["n"] < MIN_CI_N else ""
    sd = f" ± {s['sd']:.{digits}f}" if np.isfinite(s["sd"]) else ""
    return f"{s['mean']:.{digits}f}{sd}{ci}"


mean_sd_ci_text = _fmt  # "0.912 ± 0.031 [0.874, 0.950]", "-" when there is no value: the PDF's cells


def bias_loa_text(ba: dict) -> str:
    """Bland-Altman ``{"bias", "loa": (low, high)}`` as ``+0.001 (-0.014, +0.015)``; "-" for what
    is not estimable (no case: no bias; one case: no limits of agreement), never "nan"."""
    bias, (low, high) = ba["bias"], ba["loa"]
    if not np.isfinite(bias):
        return "-"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{bias:+.3f}"
    return f"{bias:+.3f} ({low:+.3f}, {high:+.3f})"


def change_row(c: dict) -> list[str]:
    """One unaided-to-aided table row; a reader without cases read both ways says so instead of "nan"."""
    if c["n_pairs"] == 0:
        return [
            c["reader"],
            "0",
            "no aided reads yet" if c.get("n_aided", 0) == 0 else "no case read both ways",
            "-",
            "-",
            "-",
        ]
    return [
        c["reader"],
        str(c["n_pairs"]),
        f"{c['unaided_mean']:.3f}",
        f"{c['aided_mean']:.3f}",
        f"{c['mean_change']:+.3f}",
        _p(c["wilcoxon_p"]),
    ]


def progress_text(n_reads: int, planned: int | None) -> str:
    """ "interim: N of M planned reads" while reading is under way, "" when complete or unknown."""
    if planned is None or n_reads >= planned:
        return ""
    return f"interim: {n_reads} of {planned} planned reads"


def _p(p: float) -> str:
    return "-" if not np.isfinite(p) else f"{p:.3g}"


def readers_frame(result: dict) -> pd.DataFrame:
    """One row per reader and mode (the AI as reader "AI"): n, Dice/IoU/HD95/area error mean, SD, CI; Bland-Altman."""
    rows = []
    for e in result["readers"]:
        row = {"reader": e["reader"], "group": e["group"], "mode": e["mode"], "n": e["n"]}
        for key in ("dice", "iou", "hd95", "area_error"):
            for stat in ("mean", "sd", "ci_low", "ci_high"):
                row[f"{key}_{stat}"] = e[key][stat]
        ba = e["bland_altman"]
        row |= {"area_bias": ba["bias"], "area_loa_low": ba["loa"][0], "area_loa_high": ba["loa"][1]}
        if "volume_error" in e:  # a series study: volumes in volume_unit (mL or mm³)
            ve, vba = e["volume_error"], e["volume_bland_altman"]
            row |= {f"volume_error_{stat}": ve[stat] for stat in ("mean", "sd", "ci_low", "ci_high")}
            row |= {"volume_bias": vba["bias"], "volume_loa_low": vba["loa"][0], "volume_loa_high": vba["loa"][1]}
            row["volume_unit"] = e["volume_unit"]
        row |= {"hd95_undefined": e["hd95_undefined"], "accepted_unchanged": e["accepted_unchanged"]}
        rows.append(row)
    return pd.DataFrame(rows)


def _sub(rect, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    """(x, y, w, h) given as fractions of ``rect``, in page fractions."""
    rx, ry, rw, rh = rect
    return (rx + x * rw, ry + y * rh, w * rw, h * rh)


def _table(flow: Flow, header: Sequence[str], rows: Sequence[Sequence[str]], title: str, widths=None, size=7.0) -> None:
    flow.heading(title, size=10)
    if rows:
        flow.table(list(header), [list(r) for r in rows], widths=widths, size=size)
    else:
        flow.para("none", size=8)


def summary_tables(
    flow: Flow, result: dict, title: str, unit: str, interim: str = "", study: dict | None = None
) -> None:
    """The front table (``study.export.front``: what study, design, seed and AI), then tables: per
    reader and mode, inter-reader Dice, unaided->aided change, detection AUCs.

    They flow down the page one after the other (``study.export.pdf.Flow``), each as tall as its
    rows, continuing on the next page when full: fixed slots left a blank band under a short table
    and let a long one run into the next."""
    prog = result.get("progress") or {}
    planned = f" of {prog['planned']} planned" if prog.get("planned") else ""
    extra = [
        ["Readers analysed", str(len({e["reader"] for e in result["readers"] if e["reader"] != "AI"}))],
        ["Reads analysed", f"{prog['reads']}{planned}" if "reads" in prog else ""],
        ["Status", status_text(prog) if interim else "complete"],
    ]
    notice = (
        f"Interim report, {interim[len('interim: ') :]}: figures will change as reading goes on." if interim else ""
    )
    front_matter(flow, title, study, extra, notice=notice, size=16)
    flow.para(
        "Region agreement with the truth mask. Dice (1945), IoU (Jaccard 1912), HD95: mean ± SD [95% CI of the "
        f"mean: percentile bootstrap, Efron & Tibshirani 1993, {BOOTSTRAP_RESAMPLES} resamples, seed "
        f"{BOOTSTRAP_SEED}, so Dice and IoU stay within 0-1 and HD95 above 0]; area error: [t 95% CI]; no CI "
        f"below n = {MIN_CI_N}. "
        "Two empty masks count as Dice 1.",
        size=8,
    )
    volume = result.get("volume")
    if volume:
        flow.para(
            "Series scored in 3-D: Dice and IoU over the volume, HD95 between the 3-D surfaces at the voxel "
            "spacing (slice spacing from the slices' positions), volumes in "
            f"{volume['unit']} (Medical Segmentation Decathlon; Metrics Reloaded, Maier-Hein 2024).",
            size=8,
        )
    size_u = volume["unit"] if volume else ("mm²" if unit == "mm" else "px")
    size_name = "volume" if volume else "area"
    rows = [
        [
            e["reader"],
            e["mode"],
            str(e["n"]),
            _fmt(e["dice"]),
            _fmt(e["iou"]),
            _fmt(e["hd95"]),
            bias_loa_text(e["volume_bland_altman" if volume else "bland_altman"]),
        ]
        for e in result["readers"]
    ]
    hd95_name = "HD95 3-D" if volume else "HD95"
    header = ["reader", "mode", "n", "Dice", "IoU", f"{hd95_name} ({unit})", f"{size_name} bias (LoA), {size_u}"]
    _table(
        flow, header, rows, "Per reader and mode (the AI as a reader)", [0.08, 0.08, 0.04, 0.21, 0.21, 0.19, 0.19], 6
    )
    inter = [
        [mode, str(len(v["pairs"])), _fmt(v)] + [", ".join(f"{k} {d:.3f}" for k, d in list(v["pairs"].items())[:4])]
        for mode, v in result["inter_reader"].items()
    ]
    _table(
        flow,
        ["mode", "pairs", "mean Dice over pairs", "pairs (first 4)"],
        inter,
        "Inter-reader Dice",
        [0.12, 0.08, 0.3, 0.5],
    )
    change = [change_row(c) for c in result["aided_change"]]
    _table(
        flow,
        ["reader", "cases", "unaided Dice", "aided Dice", "change", "Wilcoxon p"],
        change,
        "Unaided to aided, per reader (paired: Wilcoxon 1945 signed-rank)",
    )
    det = [
        [
            d["reader"],
            d["mode"],
            str(d["n"]),
            "-" if not np.isfinite(d["auc"]) else f"{d['auc']:.3f} (SE {d['se']:.3f})",
            "-"
            if "vs_ai" not in d
            else f"{d['vs_ai']['auc_difference']:+.3f}, p {_p(d['vs_ai']['p'])} (n {d['vs_ai']['n']})",
        ]
        for d in result.get("detection", [])
    ]
    _table(
        flow,
        ["reader", "mode", "cases", f"AUC of {size_name}", "vs AI (DeLong 1988)"],
        det,
        f"Disease detection from the region's {size_name} (larger = diseased)",
        [0.14, 0.12, 0.1, 0.28, 0.36],
    )


def draw_dice_boxplot(fig: Figure, rect, result: dict) -> None:
    """Dice per case, one box per reader and mode (the AI last)."""
    ax = fig.add_axes(_sub(rect, 0.1, 0.22, 0.86, 0.68))
    groups: dict[tuple[str, str], list[float]] = {}
    for r in result["cases"]:
        groups.setdefault((r["reader"], r["mode"]), []).append(r["dice"])
    keys = sorted(groups, key=lambda k: (k[0] == "AI", k[0], k[1] != "unaided"))
    box = ax.boxplot([groups[k] for k in keys], patch_artist=True, widths=0.6, medianprops={"color": "black"})
    for patch, k in zip(box["boxes"], keys):
        patch.set_facecolor(MODE_COLORS.get(k[1], "#999999"))
        patch.set_alpha(0.6)
    ax.set_xticks(range(1, len(keys) + 1), [f"{r}\n{m}" for r, m in keys], fontsize=7, rotation=45)
    ax.set_ylabel("Dice vs truth")
    ax.set_ylim(max(0.0, min(min(v) for v in groups.values()) - 0.05), 1.0)
    ax.set_title("Dice per reader and mode", fontsize=10)
    ax.legend(
        handles=[Line2D([], [], color=c, lw=6, alpha=0.6, label=m) for m, c in MODE_COLORS.items()],
        loc="lower right",
        fontsize=7,
    )


def dice_boxplot(result: dict) -> Figure:
    fig = Figure(figsize=(8.27, 5.0))
    draw_dice_boxplot(fig, (0, 0, 1, 1), result)
    return fig


def draw_bland_altman(fig: Figure, rect, result: dict, unit: str) -> None:
    """Area (a series study: volume) minus the truth's against their mean (Bland & Altman 1986), per mode,
    with bias and limits of agreement."""
    ax = fig.add_axes(_sub(rect, 0.11, 0.11, 0.85, 0.8))
    volume = result.get("volume")
    key, name = (volume["key"], "volume") if volume else ("area", "area")
    size_u = volume["unit"] if volume else ("mm²" if unit == "mm" else "px")
    by_mode: dict[str, list[dict]] = {}
    for r in result["cases"]:
        by_mode.setdefault(r["mode"], []).append(r)
    for mode, rs in by_mode.items():
        a, t = np.array([r[key] for r in rs]), np.array([r[f"truth_{key}"] for r in rs])
        d, m = a - t, (a + t) / 2
        color = MODE_COLORS.get(mode, "#777777")
        ax.scatter(m, d, s=10, alpha=0.6, color=color, label=f"{mode} (n {len(d)})")
        if len(d) > 1:
            bias, sd = d.mean(), d.std(ddof=1)
            ax.axhline(bias, color=color, lw=1.2)
            for lim in (bias - 1.96 * sd, bias + 1.96 * sd):
                ax.axhline(lim, color=color, lw=0.8, ls="--")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel(f"mean of {name} and truth {name} ({size_u})")
    ax.set_ylabel(f"{name} - truth {name} ({size_u})")
    ax.set_title(f"Bland-Altman: {name} against the truth {name} (solid: bias; dashed: bias ± 1.96 SD)", fontsize=10)
    ax.legend(fontsize=7)


def bland_altman_plot(result: dict, unit: str) -> Figure:
    fig = Figure(figsize=(8.27, 5.5))
    draw_bland_altman(fig, (0, 0, 1, 1), result, unit)
    return fig


def overlay_cases(result: dict, images: Mapping[str, np.ndarray], n: int = 3) -> tuple[list[tuple[str, str]], dict]:
    """Up to n worst and n best cases by mean reader Dice, as (kind, case id), and each case's Dice list.

    No case is shown twice: with fewer than 2n cases the worst take the first half (rounded up)
    and the best what is left."""
    per_case: dict[str, list[float]] = {}
    for r in result["cases"]:
        if r["reader"] != "AI":
            per_case.setdefault(r["case_id"], []).append(r["dice"])
    ranked = sorted((c for c in per_case if c in images), key=lambda c: np.mean(per_case[c]))
    k = min(n, (len(ranked) + 1) // 2)
    best = ranked[k:][::-1][:n]
    return [("worst", c) for c in ranked[:k]] + [("best", c) for c in best], per_case


def overlay_plane(truth: np.ndarray) -> int | None:
    """The slice of an (N, H, W) truth mask with the largest truth area (the first of ties); None for (H, W)."""
    t = np.asarray(truth, bool)
    return int(np.argmax(t.reshape(len(t), -1).sum(1))) if t.ndim == 3 else None


def draw_overlays(
    fig: Figure,
    rect,
    chosen: Sequence[tuple[str, str]],
    per_case: Mapping[str, list[float]],
    images: Mapping[str, np.ndarray],
    truth: Mapping[str, np.ndarray],
    reads: Sequence[RegionRead],
    ai: Mapping[str, np.ndarray] | None,
) -> None:
    """Image, truth (green), aided reads (orange), unaided reads (blue) and the AI (red) as contours.

    A series (truth (N, H, W), image (N, H, W) or (N, H, W, 3)) shows the slice with the largest
    truth area, named in the caption; matplotlib's contour takes only one plane."""
    x, y, _, h = rect
    fig.text(x, y + h, "truth green, unaided blue, aided orange, AI red", fontsize=8, va="top")
    cols = 2
    rows = (len(chosen) + cols - 1) // cols
    for i, (kind, case) in enumerate(chosen):
        cell = (0.02 + (i % cols) * 0.5, 0.97 - (i // cols + 1) * 0.97 / rows, 0.46, 0.97 / rows - 0.035)
        ax = fig.add_axes(_sub(rect, *cell))
        t = np.asarray(truth[case], bool)
        k = overlay_plane(t)
        img = np.asarray(images[case])

        def plane(m: np.ndarray, k: int | None = k) -> np.ndarray:
            return (m if k is None else m[k]).astype(float)

        if k is not None:
            img = img[k]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.contour(plane(t), levels=[0.5], colors=TRUTH_COLOR, linewidths=1.6)
        for r in reads:
            if r.case_id == case:
                m = plane(same_grid(r.mask, t.shape, f"case {case}, reader {r.reader} ({r.mode})"))
                ax.contour(m, levels=[0.5], colors=MODE_COLORS.get(r.mode, "#777777"), linewidths=0.7)
        if ai and case in ai:
            ax.contour(plane(as_mask(ai[case], t.shape)), levels=[0.5], colors=MODE_COLORS["AI"], linewidths=1)
        where = "" if k is None else f"\nslice {k + 1} of {len(t)} (largest truth area)"
        ax.set_title(f"{kind}: {case}, mean Dice {np.mean(per_case[case]):.3f}{where}", fontsize=8)
        ax.set_axis_off()


def region_figures(
    result: dict,
    reads: Sequence[RegionRead],
    truth: Mapping[str, np.ndarray],
    images: Mapping[str, np.ndarray] | None = None,
    ai: Mapping[str, np.ndarray] | None = None,
    title: str = "Region reads",
    unit: str = "mm",
    interim: str = "",
    study: dict | None = None,
) -> list[Figure]:
    """The PDF pages of the region section, in order: A4 portrait, tables and plots flowing down
    the pages (``study.export.pdf.Flow``), then the example cases on a page of their own.
    ``interim`` (``progress_text``) marks a report made while reading is under way; ``study``
    (``study.export.front.report_facts``): what the front table says about the study."""
    flow = Flow(f"{title} - " + (f"region report ({interim})" if interim else "region report"))
    summary_tables(flow, result, title, unit, interim, study)
    flow.figure(lambda fig, rect: draw_dice_boxplot(fig, rect, result), 0.36)
    flow.figure(lambda fig, rect: draw_bland_altman(fig, rect, result, unit), 0.4)
    chosen, per_case = overlay_cases(result, images or {})
    if chosen:
        flow.new_page()  # the images need a page of their own
        flow.figure(
            lambda fig, rect: draw_overlays(fig, rect, chosen, per_case, images or {}, truth, reads, ai),
            TOP - BOTTOM - 0.05,
            heading="Example cases: worst (top) and best (bottom) by mean reader Dice",
        )
    return flow.finish()


def read_truth_mask(path: str | Path) -> np.ndarray:
    """A truth mask file as bool (H, W): a PNG (any non-zero pixel is inside) or a ``.npy`` bool array."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False).astype(bool)
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("L")) > 0


def region_inputs(
    cases: Sequence,
    role: str,
    labels: Sequence[str],
    outputs: Mapping | None = None,
    spacing_mm: float | None = None,
) -> tuple[dict, dict, dict, dict, dict]:
    """(truth masks, disease labels 0/1, images for overlays, AI mask probabilities, voxel spacing
    (slice, row, column) mm of the series) by case id.

    ``cases``: ``study.cases.Case`` records (case_id, truth, media, truth_mask);
    ``outputs``: case id -> AIOutput with the mask in ``cams[role]``.  Labels
    are read only when the task has a combined binary question (``labels``).  A case whose
    truth has two or more slices is a series scored in 3-D (unless its frames are times: a video
    or cine, ``study.region.frames_are_times``): its voxel spacing comes from the media
    (``study.region.series_voxel_mm``; ``spacing_mm``, the task's, wins in-plane).
    StudyError listing every series without a usable spacing, one line each naming the case
    and the folder.
    """
    from study.media import load
    from study.region import frames_are_times, series_voxel_mm

    truth, disease, images, ai, voxel = {}, {}, {}, {}, {}
    problems = []
    for c in cases:
        if not c.truth_mask:
            continue
        truth[c.case_id] = read_truth_mask(c.truth_mask)
        if len(labels) == 2 and c.truth in ("0", "1", *labels):
            disease[c.case_id] = int(c.truth in ("1", labels[1]))
        media = load(c.media[role])
        frames = media.frames
        # a series keeps every slice: the overlay page shows the one with the most truth
        images[c.case_id] = frames if truth[c.case_id].ndim == 3 else frames[0]
        if truth[c.case_id].ndim == 3 and len(truth[c.case_id]) > 1 and not frames_are_times(media):
            try:
                voxel[c.case_id] = series_voxel_mm(media, spacing_mm)
            except ValueError as exc:
                problems.append(f"case {c.case_id}: {exc}")
        out = (outputs or {}).get(c.case_id)
        if out is not None and role in out.cams:
            ai[c.case_id] = out.cams[role]
    if problems:
        raise StudyError(problems)
    return truth, disease, images, ai, voxel


def region_analysis(
    reads: Sequence[RegionRead],
    truth: Mapping[str, np.ndarray],
    labels: Mapping[str, int] | None = None,
    ai: Mapping[str, np.ndarray] | None = None,
    spacing_mm: tuple[float, float] | None = None,
    planned: int | None = None,
    voxel_mm: Mapping[str, tuple[float, float, float]] | None = None,
    progress: ReadingProgress | None = None,
) -> dict:
    """``analyze_regions`` with the reading progress (``"progress"``: reads, planned, interim): the
    numbers of the export folder and of the admin's Results tab, computed once, here.
    ``voxel_mm`` scores those series in 3-D; ``progress`` (a stored study's enrolled readers x
    sessions, ``study.progress.study_progress``) overrides ``planned``."""
    result = analyze_regions(reads, truth, labels, ai, spacing_mm, voxel_mm)
    if progress is not None:
        result["progress"] = {"reads": len(reads), **progress.as_dict()}
    else:
        result["progress"] = {
            "reads": len(reads),
            "planned": planned,
            "interim": bool(progress_text(len(reads), planned)),
        }
    return result


def write_region_report(
    reads: Sequence[RegionRead],
    truth: Mapping[str, np.ndarray],
    out_dir: Path,
    labels: Mapping[str, int] | None = None,
    ai: Mapping[str, np.ndarray] | None = None,
    images: Mapping[str, np.ndarray] | None = None,
    spacing_mm: tuple[float, float] | None = None,
    title: str = "Region reads",
    planned: int | None = None,
    voxel_mm: Mapping[str, tuple[float, float, float]] | None = None,
    study: dict | None = None,
    progress: ReadingProgress | None = None,
) -> dict[str, Path]:
    """Analyse and write FILES to ``out_dir``; return {file name: path}.  Raises KeyError for a read without
    truth, ValueError for a read whose mask is not on its truth's grid.  ``planned``: the reads the design
    asks for (readers x cases x modes); fewer read makes it an interim report.  ``voxel_mm``: case id ->
    (slice, row, column) mm of the series, scored in 3-D (``study.stats.regions.case_metrics``).  ``study``
    (``study.export.front.report_facts``): the PDF's front table and region_results.json's ``"study"``.
    ``progress`` (``study.progress.study_progress``, a stored study's enrolled readers x sessions)
    overrides ``planned``."""
    result = region_analysis(reads, truth, labels, ai, spacing_mm, planned, voxel_mm, progress)
    if progress is not None:
        interim = progress_text(progress.done, progress.planned) if progress.interim else ""
    else:
        interim = progress_text(len(reads), planned)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unit = "mm" if all(r["hd95_unit"] == "mm" for r in result["cases"]) else "px"
    paths = {name: out / name for name in FILES}
    pd.DataFrame(result["cases"]).to_csv(paths["region_cases.csv"], index=False)
    readers_frame(result).to_csv(paths["region_readers.csv"], index=False)
    payload = {**result, "study": study if study and "study_id" in study else export_facts()}
    paths["region_results.json"].write_text(json.dumps(jsonable(payload), indent=1, allow_nan=False), encoding="utf-8")
    with PdfPages(paths["report.pdf"], metadata={"Title": title, "Creator": "readerstudy"}) as pdf:
        for fig in region_figures(result, reads, truth, images, ai, title, unit, interim, study):
            pdf.savefig(fig)
    return paths


def write_study_region_report(
    study_dir: Path, out_dir: Path, table: pd.DataFrame, url: str | None = None, title: str | None = None
):
    """`readerstudy report` for a study whose task is a region: stored region reads, truth masks, AI masks.

    Besides FILES it writes ``reads.csv``, the per-read table every study kind exports
    (``study.export.stored_reads.stored_reads_frame``: every stored read version, ``current``
    marking the one the statistics use, the mask as ``region_pixels`` and ``region_area_mm2``,
    with ``accepted_unchanged``, ``edit_ms``, ``edit_count``), and on a series study
    ``region_volume_mm3`` and ``region_volume_ml`` at the voxel spacing the report scores with
    (``region_volume_columns``; empty for 2-D images).
    ``table``: that table, read by the caller (``study.export.cli.export_study``)."""
    from study.export.cli import ai_operating_point
    from study.export.front import report_facts

    study = load_region_study(study_dir, url, title)
    protocol = study.protocol
    point = ai_operating_point(study_dir, protocol, study.outputs.values())  # a segmentation AI has none
    facts = report_facts(study_dir, table, url, point, study.outputs)
    with reads_named_in_study_errors(study_dir):
        paths = write_region_report(
            study.reads,
            study.truth,
            out_dir,
            study.disease or None,
            study.ai,
            study.images,
            study.spacing_mm,
            study.title,
            None,
            study.voxel_mm,
            study=facts,
            progress=study.progress,
        )
    paths["reads.csv"] = Path(out_dir) / "reads.csv"
    region_volume_columns(table, study.voxel_mm).to_csv(paths["reads.csv"], index=False)
    return paths


@contextmanager
def reads_named_in_study_errors(study_dir: Path) -> Iterator[None]:
    """The analysis's KeyError (a read without truth) and ValueError (a read off its truth's grid
    or pixel spacing) name the case and reader: for a stored study they are the user's data, so
    they become a ``StudyError`` (a message, not a traceback) naming the study folder too."""
    try:
        yield
    except (KeyError, ValueError) as exc:
        raise StudyError([f"{study_dir}: {exc.args[0] if exc.args else exc}"]) from exc


def region_volume_columns(table: pd.DataFrame, voxel_mm: Mapping[str, tuple[float, float, float]]) -> pd.DataFrame:
    """``table`` (reads.csv: ``case_id``, ``region_pixels``) with ``region_volume_mm3`` and
    ``region_volume_ml`` after ``region_area_mm2``: pixels x slice x row x column mm of the
    case's ``voxel_mm`` (the report's, ``region_inputs``); empty for cases not in it (2-D
    images, frames in time) and reads without a mask."""
    if "region_pixels" not in table.columns:
        return table
    per_voxel = table["case_id"].map({c: float(np.prod(v)) for c, v in voxel_mm.items()})
    mm3 = pd.to_numeric(table["region_pixels"], errors="raise").astype("Float64") * per_voxel.astype("Float64")
    out = table.copy()
    at = list(out.columns).index("region_area_mm2") + 1 if "region_area_mm2" in out.columns else len(out.columns)
    out.insert(at, "region_volume_mm3", mm3)
    out.insert(at + 1, "region_volume_ml", mm3 / ML_FROM_MM3)
    return out


@dataclass(frozen=True)
class StoredRegionStudy:
    """A stored region study's inputs to the statistics (``load_region_study``)."""

    reads: list[RegionRead]  # the current submitted reads
    truth: dict[str, np.ndarray]  # case id -> bool mask, (H, W) or (N, H, W)
    disease: dict[str, int]  # case id -> 0/1, only with the combined binary question
    images: dict[str, np.ndarray]  # case id -> the region's image (every slice of a series)
    ai: dict[str, np.ndarray]  # case id -> the AI's mask probabilities
    spacing_mm: tuple[float, float] | None  # the task's pixel spacing (row, column)
    planned: int  # enrolled readers x planned sessions' reads (``progress.planned``)
    title: str
    outputs: dict = field(repr=False, default_factory=dict)  # case id -> the stored AIOutput (with its masks)
    voxel_mm: dict = field(default_factory=dict)  # case id -> (slice, row, column) mm: series scored in 3-D
    progress: ReadingProgress | None = None  # who has read what of the planned sessions
    protocol: Protocol | None = field(repr=False, default=None)  # the study's protocol (task, roles, modes)


def load_region_study(study_dir: Path, url: str | None = None, title: str | None = None) -> StoredRegionStudy:
    """Stored region reads, truth masks, disease labels, images and AI masks of a study: what
    `readerstudy report` and the admin's Results tab analyse.  StudyError when nothing is read yet."""
    from study.cases import load_cases
    from study.progress import study_progress
    from study.protocol import load_protocol
    from study.regionreads import region_reads
    from study.store import Store

    study_dir = Path(study_dir)
    protocol = load_protocol(study_dir)
    reads = region_reads(study_dir, url)
    if not reads:
        raise StudyError([f"{study_dir}: the store has no submitted region reads yet"])
    store = Store.open(study_dir, url)
    try:
        outputs = store.ai_outputs(with_cams=True)
    finally:
        store.close()
    cases = load_cases(study_dir, protocol, check_media=False)
    truth, disease, images, ai, voxel = region_inputs(
        cases, protocol.region_role, protocol.task.labels, outputs, protocol.task.spacing_mm
    )
    spacing = (protocol.task.spacing_mm,) * 2 if protocol.task.spacing_mm else None
    progress = study_progress(study_dir, url)  # every enrolled reader x every planned session
    return StoredRegionStudy(
        reads,
        truth,
        disease,
        images,
        ai,
        spacing,
        progress.planned,
        title or protocol.title or study_dir.name,
        outputs,
        voxel,
        progress,
        protocol,
    )
