"""The Results tab of a region (segmentation) study, without Qt: the numbers `readerstudy report`
writes (``study.export.region_report.region_analysis``, the same call) as the tab's tables.

Per reader and mode (the AI as a reader): Dice, IoU, HD95 and the area (a series scored in 3-D:
volume) error, mean ± SD [t 95% CI]; the unaided-to-aided Dice change per reader (Wilcoxon);
inter-reader Dice per mode; and, when the study asks the combined binary question, the AUC of
the region's area for the disease with each reader against the AI (DeLong 1988).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# study.export.region_report is imported where used: it pulls in matplotlib, which the admin
# window does not need until a region study is analysed.

AI = "AI"
MODE_ORDER = {"unaided": 0, "aided": 1, AI: 2}


@dataclass(frozen=True)
class RegionAnalysis:
    """What the worker hands back for a region study: ``region_analysis``'s result and the facts
    the tab says around it."""

    source: str  # ends with dashboard_state.STORE_SOURCE: "Export report…" runs export_study
    region: str  # what the readers outline, e.g. "FAZ"
    result: dict = field(repr=False)  # study.export.region_report.region_analysis
    n_cases: int = 0  # cases with a truth mask
    n_ai: int = 0  # cases with an AI mask
    spacing_mm: float | None = None  # the task's pixel spacing; None: areas in pixels


def analyze_region_store(study_dir: Path, source: str) -> RegionAnalysis:
    """Worker body: the study's stored region reads analysed as `readerstudy report` does.

    Raises ``StudyError`` when nothing is read yet, and naming the case and reader for a read
    without a truth mask or off its truth's grid or pixel spacing (as the report does)."""
    from study.export.region_report import load_region_study, reads_named_in_study_errors, region_analysis

    study = load_region_study(Path(study_dir))
    task = study.protocol.task  # read once, by the loader
    with reads_named_in_study_errors(study_dir):
        result = region_analysis(
            study.reads,
            study.truth,
            study.disease or None,
            study.ai,
            study.spacing_mm,
            study.planned,
            study.voxel_mm,  # series in 3-D, as the report scores them
            study.progress,
        )
    return RegionAnalysis(source, task.region or "region", result, len(study.truth), len(study.ai), task.spacing_mm)


# -- views ---------------------------------------------------------------
def units(ra: RegionAnalysis) -> tuple[str, str, str]:
    """(size name, size unit, HD95 unit): ("area", "mm²", "mm"), ("area", "px", "px") without a
    pixel spacing, ("volume", "mL", "mm") for series scored in 3-D (``result["volume"]``)."""
    rows = ra.result["cases"]
    hd = "mm" if rows and all(r.get("hd95_unit") == "mm" for r in rows) else "px"
    volume = ra.result.get("volume")
    if volume:
        return "volume", volume["unit"], hd
    return "area", ("mm²" if hd == "mm" else "px"), hd


def _sorted(entries: list[dict]) -> list[dict]:
    """Readers in name order, unaided before aided, the AI last (the truth's own row after it)."""
    return sorted(
        entries,
        key=lambda e: (e["reader"] == "truth", e["reader"] == AI, e["reader"], MODE_ORDER.get(e["mode"], 3)),
    )


def summary_text(ra: RegionAnalysis) -> str:
    """'FAZ outlines: 2 readers, 6 cases, 24 reads in modes unaided, aided; AI masks for 6 cases;
    areas in mm², HD95 in mm.' with the interim notice first while reading is under way."""
    from study.export.region_report import progress_text

    rows = [r for r in ra.result["cases"] if r["reader"] != AI]
    readers = sorted({r["reader"] for r in rows})
    modes = sorted({r["mode"] for r in rows}, key=lambda m: MODE_ORDER.get(m, 3))
    prog = ra.result.get("progress") or {}
    interim = progress_text(prog.get("reads", len(rows)), prog.get("planned"))
    name, size_u, hd_u = units(ra)
    spacing = f" (pixel spacing {ra.spacing_mm:g} mm)" if ra.spacing_mm else " (no pixel spacing in study.toml)"
    return (
        (f"INTERIM: {interim[len('interim: ') :]}; figures will change as reading goes on. " if interim else "")
        + f"{ra.region} outlines: {len(readers)} reader{'s' * (len(readers) != 1)}, {ra.n_cases} cases, "
        f"{len(rows)} reads in mode{'s' * (len(modes) != 1)} {', '.join(modes)}; "
        + (f"AI masks for {ra.n_ai} cases" if ra.n_ai else "no AI masks stored")
        + f"; {name}s in {size_u}, HD95 in {hd_u}{spacing}. "
        "Dice and IoU against the truth mask: mean ± SD [t 95% CI]; two empty masks count as Dice 1."
    )


def two_lines(text: str) -> str:
    """'0.912 ± 0.031 [0.874, 0.950]' as '0.912 ± 0.031' over '[0.874, 0.950]': half as wide."""
    return text.replace(" [", "\n[", 1)


def reader_table(ra: RegionAnalysis) -> tuple[list[str], list[list[str]]]:
    """Per reader and mode (the AI as a reader): the PDF's first table, plus the size error and
    the AI's regions kept unchanged."""
    from study.export.region_report import bias_loa_text, mean_sd_ci_text

    name, size_u, hd_u = units(ra)
    volume = ra.result.get("volume")
    error_key, ba_key = ("volume_error", "volume_bland_altman") if volume else ("area_error", "bland_altman")
    cols = [
        "Reader",
        "Group",
        "Mode",
        "n",
        "Dice: mean ± SD\n[95% CI]",
        "IoU",
        f"HD95 ({hd_u})",
        f"{name} error ({size_u})",
        f"{name} bias (LoA), {size_u}",
        "AI region kept",
    ]
    rows = []
    for e in _sorted(list(ra.result["readers"])):
        hd95 = two_lines(mean_sd_ci_text(e["hd95"]))
        if e.get("hd95_undefined"):
            hd95 += f"\n{e['hd95_undefined']} undefined (one mask empty)"
        rows.append(
            [
                e["reader"],
                e["group"],
                e["mode"],
                str(e["n"]),
                two_lines(mean_sd_ci_text(e["dice"])),
                two_lines(mean_sd_ci_text(e["iou"])),
                hd95,
                two_lines(mean_sd_ci_text(e[error_key])),
                bias_loa_text(e[ba_key]),
                f"{e['accepted_unchanged']} of {e['n']}" if e["mode"] == "aided" else "-",
            ]
        )
    return cols, rows


CHANGE_COLUMNS = ["Reader", "Cases read both ways", "Unaided Dice", "Aided Dice", "Change", "Wilcoxon p"]


def change_table(ra: RegionAnalysis) -> tuple[list[str], list[list[str]]]:
    """Unaided to aided Dice per reader, paired on the cases read both ways (the PDF's rows)."""
    from study.export.region_report import change_row

    return CHANGE_COLUMNS, [change_row(c) for c in ra.result["aided_change"]]


def inter_reader_table(ra: RegionAnalysis) -> tuple[list[str], list[list[str]]]:
    """Per mode: the pairs of readers compared and their mean Dice (mean ± SD [CI] over pairs)."""
    from study.export.region_report import mean_sd_ci_text

    rows = [
        [mode, str(len(v["pairs"])), mean_sd_ci_text(v), ", ".join(f"{k} {d:.3f}" for k, d in v["pairs"].items())]
        for mode, v in sorted(ra.result["inter_reader"].items(), key=lambda kv: MODE_ORDER.get(kv[0], 3))
    ]
    return ["Mode", "Pairs", "Mean Dice over pairs", "Pairs (reader|reader Dice)"], rows


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


def detection_table(ra: RegionAnalysis) -> tuple[list[str], list[list[str]]]:
    """AUC of the region's area (larger = diseased) per reader and mode, for the AI and for the
    truth masks, and each reader against the AI by DeLong; ([], []) without the combined question."""
    det = ra.result.get("detection")
    if not det:
        return [], []
    name = units(ra)[0]
    rows = []
    for d in _sorted(list(det)):
        auc = "-" if not math.isfinite(d["auc"]) else f"{d['auc']:.3f} (SE {d['se']:.3f})"
        vs = d.get("vs_ai")
        rows.append(
            [
                "truth mask" if d["reader"] == "truth" else d["reader"],
                "-" if d["reader"] == "truth" else d["mode"],
                str(d["n"]),
                auc,
                "-" if not vs else f"{vs['auc_difference']:+.3f}, {_p(vs['p'])} (n {vs['n']})",
            ]
        )
    return ["Reader", "Mode", "Cases", f"AUC of {name} (SE)", "Minus the AI's AUC (DeLong 1988)"], rows
