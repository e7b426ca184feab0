"""The results dashboard's data (no Qt): one analysis of a reads table and its views.

Every number comes from :func:`study.stats.analysis.analyze` (the CLI's
``analyze``/``report``); the views only pick and format.  The paper table is
:func:`study.export.tables.paper_table`, the same cells as the PDF report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from study.errors import StudyError
from study.export.tables import paper_table
from study.stats import auc as auc_mod
from study.stats.analysis import AI_MODALITY, AI_READER, analyze, normalise_ai
from study.stats.table import normalise_reads, with_decisions

FOM_NAMES = {"auc": "AUC", "sensitivity": "Sensitivity", "specificity": "Specificity"}


@dataclass(frozen=True)
class Analysis:
    """What the worker hands back: the inputs as analysed and ``analyze``'s result."""

    source: str
    reads: pd.DataFrame  # normalised, with decisions
    ai: pd.DataFrame | None  # normalised: case, rating, decision
    result: dict
    raw_reads: pd.DataFrame = field(repr=False, default=None)
    raw_ai: pd.DataFrame | None = field(repr=False, default=None)


def _analysis(source: str, reads: pd.DataFrame, ai: pd.DataFrame | None) -> Analysis:
    if reads is None or len(reads) == 0:
        raise StudyError([f"{source}: no submitted reads yet"])
    result = analyze(reads, ai=ai, source=source)
    df, _ = with_decisions(normalise_reads(reads, source=source))
    ai_norm = normalise_ai(ai, set(df["case"])) if ai is not None else None
    return Analysis(source, df, ai_norm, result, reads, ai)


def analyze_store(study_dir: Path) -> Analysis:
    """Worker body: the study's stored reads and AI outputs, as `readerstudy report` loads them."""
    from study.export.cli import load_study

    reads, ai = load_study(Path(study_dir))
    return _analysis(f"{study_dir} (store)", reads, ai)


def analyze_csv(reads_csv: Path, ai_csv: Path | None = None) -> Analysis:
    """Worker body: a long-format reads CSV (and an AI outputs CSV), as `readerstudy analyze` reads them."""
    from study.stats.cli import read_csv

    reads = read_csv(Path(reads_csv), "reads")
    ai = read_csv(Path(ai_csv), "AI outputs") if ai_csv else None
    return _analysis(str(reads_csv), reads, ai)


def analyze_frames(reads: pd.DataFrame, ai: pd.DataFrame | None, source: str = "reads") -> Analysis:
    """Worker body for tables already in memory (e.g. a seeded simulation)."""
    return _analysis(source, reads, ai)


def export_report(analysis: Analysis, out_dir: Path, title: str) -> dict[str, Path]:
    """Worker body: everything `readerstudy report` writes, from the same result."""
    from study.export.report import write_report

    return write_report(analysis.raw_reads, out_dir, ai=analysis.raw_ai, result=analysis.result, title=title)


# -- views ---------------------------------------------------------------
def _num(v: float, digits: int = 2) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def mrmc_sentence(result: dict, fom: str = "auc") -> str:
    """'AUC unaided 0.88 vs aided 0.93, difference 0.05 (95% CI 0.01 to 0.09), F = 6.1, df = 1, 14.2, p = 0.03'.

    The difference is second minus first modality (aided minus unaided);
    ``analyze`` reports first minus second, so the sign and the CI flip.
    """
    res = (result.get("mrmc") or {}).get(fom)
    name = FOM_NAMES.get(fom, fom)
    if not res:
        notes = [n for n in result.get("notes", []) if "MRMC" in n]
        return f"{name}: no MRMC result ({notes[0] if notes else 'needs two readers and two modalities'})."
    mods = res["modalities"]
    est = res["estimates"]
    if not res.get("pairwise"):
        return f"{name} " + ", ".join(f"{m} {_num(est[m])}" for m in mods) + "."
    pair = res["pairwise"][0]
    lo, hi = pair["ci95"]
    p = res["p"]
    p_text = "p < 0.001" if math.isfinite(p) and p < 0.001 else f"p = {_num(p, 3 if p < 0.01 else 2)}"
    return (f"{name} {mods[0]} {_num(est[mods[0]])} vs {mods[1]} {_num(est[mods[1]])}, "
            f"difference {_num(-pair['difference'])} (95% CI {_num(-hi)} to {_num(-lo)}), "
            f"F = {_num(res['f'], 1)}, df = {res['df1']}, {_num(res['df2'], 1)}, {p_text}")


def paper_view(result: dict) -> tuple[list[str], list[str], list[list[str]]]:
    """(columns, rows, cells) of the per-group table: the PDF's own table function."""
    return paper_table(result)


@dataclass(frozen=True)
class ForestRow:
    label: str
    modality: str
    sensitivity: float
    sensitivity_ci: tuple[float, float]
    specificity: float
    specificity_ci: tuple[float, float]


def forest_rows(result: dict) -> list[ForestRow]:
    return [ForestRow(f"{r['reader']} · {r['modality']}", r["modality"], r["sensitivity"],
                      tuple(r["sensitivity_ci95"]), r["specificity"], tuple(r["specificity_ci95"]))
            for r in result["readers"]]


@dataclass(frozen=True)
class RocSeries:
    reader: str
    modality: str
    fpf: np.ndarray
    tpf: np.ndarray


def roc_series(analysis: Analysis) -> tuple[list[RocSeries], RocSeries | None]:
    """Empirical ROC curves per reader x modality and the AI's, from the analysed tables."""
    df = analysis.reads
    curves = []
    for reader in analysis.result["readers_order"]:
        for m in analysis.result["modalities"]:
            sub = df[(df["reader"] == reader) & (df["modality"] == m)]
            if sub["truth"].nunique() == 2:
                curves.append(RocSeries(reader, m, *auc_mod.roc_points(sub["truth"].to_numpy(), sub["rating"].to_numpy())))
    ai_curve = None
    if analysis.ai is not None and len(analysis.ai):
        truth = df.drop_duplicates("case").set_index("case")["truth"]
        t = truth.reindex(analysis.ai["case"]).to_numpy()
        if len(set(t)) == 2:
            ai_curve = RocSeries(AI_READER, AI_MODALITY, *auc_mod.roc_points(t, analysis.ai["rating"].to_numpy()))
    return curves, ai_curve


def operating_points(result: dict) -> dict[tuple[str, str], tuple[float, float]]:
    """(reader, modality) -> (1 - specificity, sensitivity)."""
    return {(r["reader"], r["modality"]): (1 - r["specificity"], r["sensitivity"]) for r in result["readers"]}


SWITCH_COLUMNS = ("wrong → right", "right → wrong", "stayed right", "stayed wrong", "n")
_KINDS = ("wrong_to_right", "right_to_wrong", "stayed_right", "stayed_wrong")


def switching_rows(result: dict) -> list[list[str]]:
    """Rows (who, AI right/wrong, counts...) of the switching table; [] without AI outputs."""
    sw = result.get("switching")
    if not sw:
        return []
    rows = []
    for who, block in [("All readers", sw["total"])] + [(r["reader"], r) for r in sw["readers"]]:
        for key, name in (("ai_right", "AI right"), ("ai_wrong", "AI wrong")):
            t = block[key]
            rows.append([who, name, *(str(t[k]) for k in _KINDS), str(sum(t.values()))])
        ab = block["automation_bias"]
        rate = f"{100 * ab['rate']:.0f}%" if math.isfinite(ab["rate"]) else "n/a"
        rows.append([who, "automation bias", "", "", "", "", f"{ab['followed']}/{ab['opportunities']} ({rate})"])
    return rows


def time_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """Reading time per case, seconds (mean / median) per reader and modality."""
    mods = result["modalities"]
    by = {(r["reader"], r["modality"]): r for r in result["readers"]}
    rows = []
    for reader in result["readers_order"]:
        line = [reader]
        for m in mods:
            r = by.get((reader, m))
            line.append(f"{_num(r['seconds_mean'], 1)} / {_num(r['seconds_median'], 1)}" if r else "-")
        rows.append(line)
    groups = [g for g in result["groups"] if g["group"] != AI_READER]
    for g in dict.fromkeys(x["group"] for x in groups):
        line = [f"{g} (mean)"]
        for m in mods:
            row = next((x for x in groups if x["group"] == g and x["modality"] == m), None)
            line.append(_num(row["seconds_mean"], 1) if row else "-")
        rows.append(line)
    return ["Reader", *[f"{m}: mean / median s" for m in mods]], rows


def summary_text(result: dict) -> str:
    thr = result["threshold"]
    cut = f"rating ≥ {thr['value']:g}" if thr["value"] is not None else "decision column"
    return (f"{result['n_readers']} readers, {result['n_cases']} cases ({result['n_positive']} positive, "
            f"{result['n_negative']} negative); modalities {', '.join(result['modalities'])}; decision: {cut}.")


class DashboardState:
    """Bound to the dashboard: where the reads come from and the latest analysis."""

    def __init__(self, study_dir: Path | None = None, title: str = "Reader study report") -> None:
        self.study_dir = study_dir
        self.title = title
        self.analysis: Analysis | None = None
        self.busy = False
        self.message = ""

    def on_started(self, what: str) -> None:
        self.busy, self.message = True, what

    def on_analysis(self, analysis: Analysis) -> None:
        self.busy, self.analysis = False, analysis
        notes = analysis.result.get("notes", [])
        self.message = f"Source: {analysis.source}" + ("" if not notes else "  ·  " + " ".join(notes))

    def on_exported(self, paths: dict[str, Path]) -> None:
        self.busy = False
        folder = next(iter(paths.values())).parent if paths else ""
        self.message = f"Wrote {', '.join(paths)} to {folder}"

    def on_failed(self, exc: BaseException) -> None:
        self.busy = False
        lines = exc.problems if isinstance(exc, StudyError) else [f"{type(exc).__name__}: {exc}"]
        self.message = "; ".join(lines)
