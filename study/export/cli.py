"""`readerstudy report STUDY_DIR --out DIR`: the export folder of a study's stored reads."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from study.errors import StudyError

if TYPE_CHECKING:
    import pandas as pd


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study_dir", type=Path, help="study folder (with study.toml and the store)")
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for reads.csv, metrics, iMRMC, JSON, report.pdf"
    )
    parser.add_argument(
        "--threshold", type=float, help="readers' decision cut: rating >= T (default: their yes/no answers)"
    )
    parser.add_argument(
        "--ai-threshold",
        type=float,
        help="AI's decision cut: score >= T (default: the model's own decision, else the midpoint of its scale)",
    )
    parser.add_argument("--title", help="report title (default: the study's title from study.toml)")
    parser.add_argument("--db", metavar="URL", default=None, help="store URL (default: the study's own)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that holds an earlier report's AUDIT_ANCHOR.txt, replacing it",
    )


def load_study(study_dir: Path, url: str | None = None):
    """Reads and AI outputs from the study's store: (reads, ai or None)."""
    from study import store  # lazy: the store pulls in SQLAlchemy

    reads = store.reads_table(study_dir, url)
    ai = store.ai_table(study_dir, url)
    return reads, (ai if len(ai) else None)


def _write_task_report(study_dir: Path, out: Path, url: str | None, title: str, task, reads, stored):
    """Multiclass, numeric and grade-distribution studies: their own metrics, the AI as a reader;
    ``stored``: reads.csv's table (``study.export.stored_reads.stored_reads_frame``)."""
    from study.cases import load_cases
    from study.export.front import report_facts
    from study.export.specimen_stats import specimen_stats
    from study.export.task_report import ai_frame_for, write_task_report
    from study.progress import study_progress
    from study.protocol import load_protocol
    from study.store import Store

    store = Store.open(study_dir, url)
    try:
        outputs = store.ai_outputs()
    finally:
        store.close()
    protocol = load_protocol(study_dir)
    cases = load_cases(study_dir, protocol, check_media=False)
    specimens = specimen_stats(study_dir, reads, url)  # [] unless specimen fields were opened
    point = ai_operating_point(study_dir, protocol, outputs.values())
    return write_task_report(
        reads,
        out,
        task,
        ai=ai_frame_for(outputs, cases, task),
        title=title,
        specimens=specimens,
        stored_reads=stored,
        ai_threshold=point,
        study=report_facts(study_dir, stored, url, point, outputs),
        progress=study_progress(study_dir, url),
    )


def ai_operating_point(study_dir: Path, protocol, outputs) -> dict | None:
    """The operating point the AI's stored calls follow, as results.json's ``thresholds.AI``:
    value, source (with the rule) and the labels it calls; None without one (or with several).
    Outputs stored before they named their rule and labels: the study's model.toml and positive labels."""
    from study.store.tables import spec_threshold_rule

    fallback = tuple(protocol.model_positive) or tuple(getattr(protocol.task, "positive", ()) or ())
    points = {
        (
            o.threshold,
            o.threshold_rule or spec_threshold_rule(study_dir, protocol.model_spec, o.threshold),
            o.positive or (o.labels[1:2] if o.head == "binary" else fallback),
        )
        for o in outputs
        if o.threshold is not None and o.decision is not None
    }
    if len(points) != 1:
        return None
    value, rule, positive = points.pop()
    source = "the model's operating point" + (f", {rule}" if rule else "")
    return {"value": float(value), "source": source, "positive": list(positive)}


def study_facts(study_dir: Path) -> dict:
    """What the analysis takes from the protocol: title, modes, scale, case count (interim counts)
    and reading-time floor.  What the report says about the study: ``study.export.front``."""
    from study.cases import load_cases
    from study.protocol import load_protocol
    from study.stats.table import Scale

    protocol = load_protocol(study_dir)
    lo, hi = protocol.task.confidence_range
    return {
        "title": protocol.title or study_dir.name,
        "modes": list(protocol.modes),
        "n_cases": len(load_cases(study_dir, protocol, check_media=False)),
        "reader_scale": Scale(float(lo), float(hi), "protocol"),
        "min_read_seconds": float(protocol.min_read_seconds),
    }


def analyze_study(
    study_dir: Path,
    reads,
    ai,
    threshold: float | None = None,
    ai_threshold: float | None = None,
    url: str | None = None,
) -> dict:
    """``analyze`` of a stored study with its protocol's scale, case count, time floor and reading
    progress (enrolled readers x planned sessions: ``study.progress``; interim until all are read)."""
    from study.progress import study_progress
    from study.stats.analysis import analyze

    facts = study_facts(study_dir)
    return analyze(
        reads,
        ai=ai,
        threshold=threshold,
        ai_threshold=ai_threshold,
        reader_scale=facts["reader_scale"],
        expected_cases=facts["n_cases"],
        min_read_seconds=facts["min_read_seconds"],
        source=str(study_dir),
        planned=study_progress(study_dir, url),
        # A case the model could not read has no output: the AI row is on the others, and a note says so.
        ai_subset=True,
        ai_source=f"{study_dir} (stored AI outputs)",
    )


WARNINGS_FILE = "WARNINGS.txt"


def aided_without_ai_warnings(study_dir: Path, frame: pd.DataFrame, url: str | None = None) -> list[str]:
    """Lines naming the current aided reads of ``frame`` (``stored_reads_frame``) whose case has no
    stored AI output: reads made before the engine refused them (a study read "aided" with no model
    attached).  They were unaided reads recorded as aided, so the unaided-to-aided comparison that
    includes them is not an AI effect."""
    from study.store import Store

    if not len(frame) or "mode" not in frame.columns:
        return []
    store = Store.open(study_dir, url)
    try:
        with_ai = set(store.ai_outputs())
    finally:
        store.close()
    bad = frame[(frame["mode"] == "aided") & frame["current"] & ~frame["case_id"].isin(with_ai)]
    if not len(bad):
        return []
    readers = ", ".join(sorted(set(bad["reader"].astype(str))))
    return [
        f"{study_dir}: {len(bad)} aided read(s) of {bad['case_id'].nunique()} case(s) (readers {readers}) were made "
        "while the store held no AI output for the case: the reader saw no AI, so these are unaided reads "
        "recorded as aided and the aided results that include them do not measure the AI's effect"
    ]


def export_study(
    study_dir: Path,
    out: Path,
    url: str | None = None,
    threshold: float | None = None,
    ai_threshold: float | None = None,
    title: str | None = None,
    force: bool = False,
) -> dict[str, Path]:
    """Everything `readerstudy report` writes for a stored study; returns {file name: path}.

    The one export of a study: the command line and the admin's Results tab both call it.
    reads.csv is every stored read version (``study.export.stored_reads``) for every task
    kind; the statistics use the current reads.  Raises ``StudyError`` (also, before anything
    is written, when ``out`` holds an earlier report's ``AUDIT_ANCHOR.txt`` and not ``force``)."""
    from study.export.stored_reads import stored_reads_frame
    from study.protocol import load_protocol
    from study.store import anchor_outputs  # the chain's head and row count, beside the outputs

    if not Path(study_dir).is_dir():
        raise StudyError([f"{study_dir}: study folder not found"])
    refuse_earlier_anchor(Path(out), force)
    task = load_protocol(study_dir).task
    stored = stored_reads_frame(study_dir, url)  # reads.csv; checks the audit chain before anything is written
    if task.kind == "region":  # masks, not ratings: study.export.region_report
        from study.export.region_report import write_study_region_report

        paths = write_study_region_report(study_dir, out, stored, url, title)
    else:
        paths = _write_rating_report(study_dir, out, stored, url, threshold, ai_threshold, title, task)
    paths["audit_anchor"] = anchor_outputs(study_dir, url, out)
    warnings = aided_without_ai_warnings(study_dir, stored, url)
    if warnings:  # beside the results, so the warning travels with them
        paths[WARNINGS_FILE] = Path(out) / WARNINGS_FILE
        paths[WARNINGS_FILE].write_text("\n".join(warnings) + "\n", encoding="utf-8")
    return paths


def refuse_earlier_anchor(out: Path, force: bool) -> None:
    """StudyError naming ``out/AUDIT_ANCHOR.txt`` when an earlier report left it there: it is that
    report's proof against the store, and a new report would overwrite it (``force``: replace it)."""
    from study.store import ANCHOR_OUTPUT

    earlier = out / ANCHOR_OUTPUT
    if earlier.exists() and not force:
        raise StudyError(
            [
                f"{earlier}: an earlier report's audit anchor is in this folder; writing a report here would "
                "overwrite it. Choose a new folder, or replace it on purpose with `readerstudy report ... --force` "
                "(its line stays in the study's readerstudy.anchors)"
            ]
        )


def _write_rating_report(study_dir, out, stored, url, threshold, ai_threshold, title, task) -> dict[str, Path]:
    """Binary studies (MRMC) and the other rated kinds (their own metrics)."""
    from study.export.front import report_facts
    from study.export.report import write_report

    reads, ai = load_study(study_dir, url)
    if reads is None or len(reads) == 0:
        raise StudyError([f"{study_dir}: the store has no submitted reads yet"])
    facts = study_facts(study_dir)
    title = title or facts["title"]
    if task.kind != "binary":
        return _write_task_report(study_dir, out, url, title, task, reads, stored)
    result = analyze_study(study_dir, reads, ai, threshold, ai_threshold, url)
    point = (result.get("thresholds") or {}).get("AI")
    if point is not None and len(task.labels) == 2:  # a binary AI's cut calls the task's positive label
        point = {**point, "positive": [task.labels[1]]}
    return write_report(
        reads,
        out,
        ai=ai,
        threshold=threshold,
        ai_threshold=ai_threshold,
        result=result,
        title=title,
        stored_reads=stored,
        study=report_facts(study_dir, stored, url, point),
    )


def run(args: argparse.Namespace) -> int:
    try:
        paths = export_study(
            args.study_dir, args.out, args.db, args.threshold, args.ai_threshold, args.title, force=args.force
        )
    except StudyError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    if WARNINGS_FILE in paths:
        print("WARNING: " + paths[WARNINGS_FILE].read_text(encoding="utf-8").strip(), file=sys.stderr)
    print(f"wrote {', '.join(p.name for p in paths.values())} to {args.out}", file=sys.stderr)
    return 0
