"""Write a study's export folder: reads, metrics, iMRMC input, JSON and the PDF report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

# Figures are built with matplotlib.figure.Figure and written by PdfPages, never
# through pyplot, so no backend is selected: headless here, harmless inside Qt.
from matplotlib.backends.backend_pdf import PdfPages

from study.export import figures
from study.export.imrmc import write_imrmc
from study.export.tables import groups_frame, mcnemar_frame, mrmc_frame, readers_frame
from study.stats.analysis import analyze, jsonable, normalise_ai
from study.stats.table import normalise_reads, with_decisions

FILES = ("reads.csv", "metrics.csv", "metrics.xlsx", "study.imrmc", "results.json", "report.pdf")


def write_report(
    reads: pd.DataFrame,
    out_dir: Path,
    ai: pd.DataFrame | None = None,
    threshold: float | None = None,
    result: dict | None = None,
    title: str = "Reader study report",
) -> dict[str, Path]:
    """Analyse ``reads`` (unless ``result`` is given) and write every export file to ``out_dir``.

    Returns ``{file name: path}`` for reads.csv, metrics.csv, metrics.xlsx,
    study.imrmc, results.json and report.pdf.  Raises ``StudyError`` for bad input.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if result is None:
        result = analyze(reads, ai=ai, threshold=threshold)
    df = normalise_reads(reads)
    df, _ = with_decisions(df, threshold)
    ai_norm = normalise_ai(ai, set(df["case"])) if ai is not None else None

    paths = {name: out / name for name in FILES}
    df.to_csv(paths["reads.csv"], index=False)
    readers = readers_frame(result)
    readers.to_csv(paths["metrics.csv"], index=False)
    with pd.ExcelWriter(paths["metrics.xlsx"], engine="openpyxl") as xl:
        readers.to_excel(xl, sheet_name="readers", index=False)
        groups_frame(result).to_excel(xl, sheet_name="groups", index=False)
        mrmc_frame(result).to_excel(xl, sheet_name="mrmc", index=False)
        mcnemar_frame(result).to_excel(xl, sheet_name="mcnemar", index=False)
    write_imrmc(df, paths["study.imrmc"], f"{title}\nexported by readerstudy; score = rating")
    paths["results.json"].write_text(json.dumps(jsonable(result), indent=1, allow_nan=False), encoding="utf-8")
    write_pdf(df, result, paths["report.pdf"], ai=ai_norm, title=title)
    return paths


def write_pdf(reads: pd.DataFrame, result: dict, path: Path, ai: pd.DataFrame | None = None, title: str = "Reader study report") -> Path:
    """The PDF: summary + group table, ROC with arrows, MRMC, forest plot, switching table."""
    pages = [
        figures.title_page(result, title),
        figures.roc_figure(reads, result, ai),
        figures.mrmc_figure(result),
        figures.forest_figure(result),
        figures.switching_figure(result),
    ]
    with PdfPages(path, metadata={"Title": title, "Creator": "readerstudy"}) as pdf:
        for fig in pages:
            if fig is not None:
                pdf.savefig(fig)
    return Path(path)
