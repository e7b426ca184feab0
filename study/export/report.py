"""Write a study's export folder: reads, metrics, iMRMC input, JSON and the PDF report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from study.export.front import export_facts
from study.export.imrmc import write_imrmc
from study.export.pdf import write_pdf
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
    ai_threshold: float | None = None,
    stored_reads: pd.DataFrame | None = None,
    study: dict | None = None,
) -> dict[str, Path]:
    """Analyse ``reads`` (unless ``result`` is given) and write every export file to ``out_dir``.

    Returns ``{file name: path}`` for reads.csv, metrics.csv, metrics.xlsx,
    study.imrmc, results.json and report.pdf.  ``stored_reads`` (every stored
    column of every read, :func:`study.export.stored_reads.stored_reads_frame`)
    becomes reads.csv when given; otherwise reads.csv is the input table with
    the decision used.  ``study``: what the report describes
    (:func:`study.export.front.report_facts`), the PDF's front table and results.json's
    ``"study"``; without it both say only the software and the date of export.
    Raises ``StudyError`` for bad input.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if result is None:
        result = analyze(reads, ai=ai, threshold=threshold, ai_threshold=ai_threshold)
    df = normalise_reads(reads, require_all_modalities=False)
    df, _ = with_decisions(df, threshold)
    ai_norm = normalise_ai(ai, set(df["case"]), ai_threshold) if ai is not None else None

    paths = {name: out / name for name in FILES}
    if stored_reads is not None:
        stored_reads.to_csv(paths["reads.csv"], index=False)
    else:
        raw = reads.reset_index(drop=True).copy()
        raw["truth"] = df["truth"].to_numpy()
        raw["decision"] = df["decision"].to_numpy()
        raw.to_csv(paths["reads.csv"], index=False)
    readers = readers_frame(result)
    readers.to_csv(paths["metrics.csv"], index=False)
    with pd.ExcelWriter(paths["metrics.xlsx"], engine="openpyxl") as xl:
        readers.to_excel(xl, sheet_name="readers", index=False)
        groups_frame(result).to_excel(xl, sheet_name="groups", index=False)
        mrmc_frame(result).to_excel(xl, sheet_name="mrmc", index=False)
        mcnemar_frame(result).to_excel(xl, sheet_name="mcnemar", index=False)
    write_imrmc(df, paths["study.imrmc"], f"{title}\nexported by readerstudy; score = rating")
    payload = {**result, "study": study if study and "study_id" in study else export_facts()}
    paths["results.json"].write_text(json.dumps(jsonable(payload), indent=1, allow_nan=False), encoding="utf-8")
    write_pdf(df, result, paths["report.pdf"], ai=ai_norm, title=title, study=study)
    return paths
