"""Export folder for the non-binary tasks: multiclass, numeric and grade distribution.

Per reader x modality (and the AI as a reader) the metrics of the matching
study: per-class one-vs-rest rates, confusion matrix and binary collapse
(cervical cytology, CIN2+ positive); MAE/RMSE/Pearson r/Bland-Altman
(hemoglobin); EMD and the grade distances (sperm motility).  Written as
reads.csv, metrics.csv, metrics.xlsx, results.json and a one-table report.pdf.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from study.aioutput import AIOutput
from study.errors import StudyError
from study.export.front import export_facts
from study.export.pdf import Flow
from study.progress import ReadingProgress
from study.protocol import Task
from study.stats.analysis import jsonable
from study.stats.tasks import analyze_grades, analyze_multiclass, analyze_numeric

FILES = ("reads.csv", "metrics.csv", "metrics.xlsx", "results.json", "report.pdf")
AI_READER = {"reader": "AI", "modality": "standalone", "group": "AI"}


def _grade_vector(task: Task, distribution, answer: str) -> list[float] | None:
    if distribution is not None and len(distribution) == len(task.grades):
        return [float(p) for p in distribution]
    if answer in task.grades:  # a single grade is all its weight on that grade
        return [1.0 if g == answer else 0.0 for g in task.grades]
    return None


def task_reads(reads: pd.DataFrame, task: Task) -> pd.DataFrame:
    """The store's reads with truth and answers typed for the task."""
    df = reads.copy()
    if task.kind == "numeric":
        df["truth"] = pd.to_numeric(df["truth"], errors="coerce")
        df["value"] = pd.to_numeric(df["value"], errors="coerce")
    elif task.kind == "grade_distribution":
        df["truth"] = [[float(p) for p in str(t).split(";")] if isinstance(t, str) else t for t in df["truth"]]
        df["distribution"] = [_grade_vector(task, d, str(a)) for d, a in zip(df["distribution"], df["answer"])]
    return df


def ai_reads(outputs: Mapping[str, AIOutput], truth: Mapping[str, str], task: Task) -> pd.DataFrame:
    """The AI's outputs as one more reader, in the reads table's columns."""
    rows = []
    for case, out in outputs.items():
        if case not in truth:
            continue
        rows.append(
            {
                **AI_READER,
                "case": case,
                "truth": truth[case],
                "answer": out.predicted,
                "value": out.value,
                "distribution": list(out.probabilities) or None,
            }
        )
    return pd.DataFrame(
        rows, columns=["reader", "modality", "group", "case", "truth", "answer", "value", "distribution"]
    )


def region_report_hint(study_dir: str | Path) -> str:
    """Where a region study's statistics are: masks, not ratings, so study.export.region_report writes them."""
    return (
        "task kind 'region': the region statistics (Dice, IoU, HD95, area, per reader and mode) are "
        f"written by `readerstudy report {study_dir} --out DIR`"
    )


def analyze_task(reads: pd.DataFrame, task: Task) -> list[dict]:
    """Per reader x modality metrics for a non-binary task (reads already typed)."""
    if task.kind == "multiclass":
        return analyze_multiclass(reads, labels=list(task.labels), positive=list(task.positive) or None)
    if task.kind == "numeric":
        return analyze_numeric(reads)
    if task.kind == "grade_distribution":
        usable = reads[reads["distribution"].notna()]
        return analyze_grades(usable)
    if task.kind == "region":
        raise StudyError([region_report_hint("STUDY")])
    raise StudyError([f"task kind {task.kind!r}: use the binary analysis (readerstudy analyze)"])


def _flat(row: dict, task: Task) -> dict:
    """One metrics.csv row: the nested result flattened to named columns."""
    flat = {k: row[k] for k in ("reader", "modality", "group", "n")}
    if task.kind == "multiclass":
        flat["accuracy"] = row["accuracy"]
        flat["accuracy_ci95_low"], flat["accuracy_ci95_high"] = row["accuracy_ci95"]
        for label, rates in row["per_class"].items():
            flat[f"{label}_sensitivity"] = rates["sensitivity"]
            flat[f"{label}_specificity"] = rates["specificity"]
        if "binary_collapse" in row:
            collapse = row["binary_collapse"]
            for key in ("sensitivity", "specificity", "accuracy"):
                flat[f"collapse_{key}"] = collapse[key]
    elif task.kind == "numeric":
        for key, value in row.items():
            if key == "bland_altman":
                flat.update({f"bland_altman_{k}": v for k, v in value.items() if not isinstance(v, (list, tuple))})
            elif key not in flat and not isinstance(value, (list, tuple, dict)):
                flat[key] = value
    else:
        flat.update({k: v for k, v in row.items() if k not in flat})
    return flat


def _pdf(
    metrics: pd.DataFrame,
    path: Path,
    title: str,
    task: Task,
    per_page: int = 8,
    specimens: pd.DataFrame | None = None,
    ai_threshold: dict | None = None,
    study: dict | None = None,
    progress: ReadingProgress | None = None,
) -> None:
    """A front page (A4 portrait: what study, design, seed and AI the report describes,
    ``study.export.front``), then the metrics down the page, one column per reader x mode, eight
    columns a page; then the specimen statistics the same way, when given.  ``ai_threshold``:
    the AI's operating point, said under the heading of every metrics page; ``progress``: an
    interim study says so there too."""
    heading = f"{title}\n{task.kind.replace('_', ' ')} task, per reader and mode"
    if progress is not None and progress.interim:
        heading += f"\nINTERIM REPORT: reading still under way, {progress.text()}; figures will change"
    if ai_threshold is not None:
        called = " or ".join(ai_threshold.get("positive") or ()) or "positive"
        heading += f"\nAI's call: {called} when its score >= {ai_threshold['value']:g} ({ai_threshold['source']})"
    with PdfPages(path, metadata={"Title": title, "Creator": "readerstudy"}) as pdf:
        more = -(-len(metrics) // per_page) + (-(-len(specimens) // per_page) if specimens is not None else 0)
        for page in _front_pages(metrics, title, task, specimens, ai_threshold, study, more, progress):
            pdf.savefig(page)
        _pages(pdf, metrics, heading, per_page)
        if specimens is not None and len(specimens):
            subtitle = "specimens: reading time, fields opened, decisive field among the AI's picks"
            _pages(pdf, specimens, f"{title}\n{subtitle}", per_page)


def _front_pages(metrics, title, task, specimens, ai_threshold, study, more: int, progress=None) -> list[Figure]:
    """The report's front table; for a reads table that is no stored study (``study`` None) the
    task and the counts of the metrics, as far as they go.  ``more``: the pages that follow;
    ``progress`` (``study.progress``): the Status row, interim with the planned reads done."""
    from study.export.front import front_matter, operating_point_text, task_facts

    people = metrics[metrics["reader"] != "AI"] if len(metrics) else metrics
    extra = [
        ["Metrics", f"{task.kind.replace('_', ' ')}: per reader and mode, the AI as a reader (following pages)"],
        ["Readers analysed", str(people["reader"].nunique()) if len(people) else "0"],
        ["Modes analysed", ", ".join(dict.fromkeys(str(m) for m in people["modality"])) if len(people) else "-"],
    ]
    if specimens is not None and len(specimens):
        extra.append(["Specimens", "reading time, fields opened, decisive field among the AI's picks (last pages)"])
    if study is None or "study_id" not in study:
        extra = [["Task", task_facts(task)["text"]], *extra]
        if ai_threshold is not None:
            extra.append(["AI operating point", operating_point_text(ai_threshold)])
    interim = progress is not None and progress.interim
    if progress is not None:
        extra.append(["Status", f"INTERIM: reading still under way, {progress.text()}" if interim else "complete"])
    flow = Flow(f"{title} - " + ("interim report" if interim else "report"))
    notice = f"INTERIM REPORT: reading still under way, {progress.text()}: figures will change." if interim else ""
    front_matter(
        flow, title, study, extra, subtitle=f"Reader study report: {task.kind.replace('_', ' ')} task.", notice=notice
    )
    return flow.finish(total=len(flow.pages) + more)


def _pages(pdf: PdfPages, metrics: pd.DataFrame, heading: str, per_page: int) -> None:
    names = [c for c in metrics.columns if c not in ("reader", "modality", "group")]
    for start in range(0, len(metrics), per_page):
        chunk = metrics.iloc[start : start + per_page]
        heads = [f"{r.reader}\n{r.modality}" for r in chunk.itertuples(index=False)]
        cells = [[_cell(v) for v in chunk[name]] for name in names]
        fig = Figure(figsize=(11.69, 8.27))
        ax = fig.add_subplot()
        ax.axis("off")
        ax.set_title(heading, fontsize=12, loc="left")
        table = ax.table(
            cellText=cells,
            rowLabels=[n.replace("_", " ") for n in names],
            colLabels=heads,
            loc="upper center",
            colWidths=[0.09] * len(heads),
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.5)
        pdf.savefig(fig)


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def write_task_report(
    reads: pd.DataFrame,
    out_dir: Path,
    task: Task,
    ai: pd.DataFrame | None = None,
    title: str = "Reader study report",
    specimens: list[dict] | None = None,
    stored_reads: pd.DataFrame | None = None,
    ai_threshold: dict | None = None,
    study: dict | None = None,
    progress: ReadingProgress | None = None,
) -> dict[str, Path]:
    """Analyse and write the export folder of a non-binary study; return {file name: path}.

    ``specimens`` (``study.export.specimen_stats``): the specimen workflow statistics of a
    triage study with galleries, written to specimens.csv, results.json and the PDF.
    ``stored_reads`` (every stored read version, ``study.export.stored_reads``) becomes
    reads.csv when given; the metrics always use ``reads`` (the current reads).
    ``ai_threshold`` (``study.export.cli.ai_operating_point``): the operating point the
    AI's calls follow, in results.json's ``thresholds.AI`` and under the PDF's heading.
    ``study`` (``study.export.front.report_facts``): what the report describes, the PDF's
    front page and results.json's ``"study"``.  ``progress`` (``study.progress.study_progress``):
    results.json's ``progress`` and, while reading is under way, an interim notice on the PDF."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    typed = task_reads(pd.concat([reads, ai], ignore_index=True) if ai is not None and len(ai) else reads, task)
    result = analyze_task(typed, task)
    paths = {name: out / name for name in FILES}
    (reads if stored_reads is None else stored_reads).to_csv(paths["reads.csv"], index=False)
    metrics = pd.DataFrame([_flat(r, task) for r in result])
    metrics.to_csv(paths["metrics.csv"], index=False)
    with pd.ExcelWriter(paths["metrics.xlsx"], engine="openpyxl") as xl:
        metrics.to_excel(xl, sheet_name="readers", index=False)
    payload = {
        "task": task.kind,
        "labels": list(task.labels or task.grades),
        "readers": result,
        "study": study if study and "study_id" in study else export_facts(),
    }
    if ai_threshold is not None:
        payload["thresholds"] = {"AI": ai_threshold}
    if progress is not None:
        payload["progress"] = progress.as_dict()
        payload["notes"] = progress.notes()
    spec_frame = None
    if specimens:
        from study.export.specimen_stats import specimen_frame

        payload["specimens"] = specimens
        spec_frame = specimen_frame(specimens)
        paths["specimens.csv"] = out / "specimens.csv"
        spec_frame.to_csv(paths["specimens.csv"], index=False)
    paths["results.json"].write_text(json.dumps(jsonable(payload), indent=1, allow_nan=False), encoding="utf-8")
    _pdf(
        metrics,
        paths["report.pdf"],
        title,
        task,
        specimens=spec_frame,
        ai_threshold=ai_threshold,
        study=study,
        progress=progress,
    )
    return paths


def ai_frame_for(study_outputs: Mapping[str, AIOutput], cases, task: Task) -> pd.DataFrame:
    """AI-as-a-reader rows for the study's cases (empty when there are no outputs)."""
    return ai_reads(study_outputs, {c.case_id: c.truth for c in cases}, task)


def load_task_study(study_dir: Path, url: str | None = None) -> tuple[Task, pd.DataFrame, pd.DataFrame]:
    """(task, reads, AI-as-a-reader rows) of a stored study, as `readerstudy report` loads them."""
    from study import store  # lazy: the store pulls in SQLAlchemy
    from study.cases import load_cases
    from study.protocol import load_protocol

    protocol = load_protocol(study_dir)
    reads = store.reads_table(study_dir, url)
    st = store.Store.open(study_dir, url)
    try:
        outputs = st.ai_outputs()
    finally:
        st.close()
    cases = load_cases(study_dir, protocol, check_media=False)
    return protocol.task, reads, ai_frame_for(outputs, cases, protocol.task)


__all__ = ["FILES", "ai_frame_for", "ai_reads", "analyze_task", "load_task_study", "task_reads", "write_task_report"]
