"""`readerstudy report STUDY_DIR --out DIR`: the export folder of a study's stored reads."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from study.errors import StudyError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study_dir", type=Path, help="study folder (with study.toml and the store)")
    parser.add_argument("--out", type=Path, required=True, help="folder for reads.csv, metrics, iMRMC, JSON, report.pdf")
    parser.add_argument("--threshold", type=float, help="decision cut: rating >= T (default: midpoint of the scale)")
    parser.add_argument("--title", help="report title (default: the study folder name)")
    parser.add_argument("--db", metavar="URL", default=None, help="store URL (default: the study's own)")


def load_study(study_dir: Path, url: str | None = None):
    """Reads and AI outputs from the study's store: (reads, ai or None)."""
    from study import store  # lazy: the store pulls in SQLAlchemy

    reads = store.reads_table(study_dir, url)
    ai = store.ai_table(study_dir, url)
    return reads, (ai if len(ai) else None)


def _write_task_report(args: argparse.Namespace, task, reads):
    """Multiclass, numeric and grade-distribution studies: their own metrics, the AI as a reader."""
    from study.cases import load_cases
    from study.export.task_report import ai_frame_for, write_task_report
    from study.protocol import load_protocol
    from study.store import Store

    store = Store.open(args.study_dir, args.db)
    try:
        outputs = store.ai_outputs()
    finally:
        store.close()
    cases = load_cases(args.study_dir, load_protocol(args.study_dir), check_media=False)
    return write_task_report(reads, args.out, task, ai=ai_frame_for(outputs, cases, task),
                             title=args.title or args.study_dir.name)


def run(args: argparse.Namespace) -> int:
    from study.export.report import write_report

    try:
        if not args.study_dir.is_dir():
            raise StudyError([f"{args.study_dir}: study folder not found"])
        from study.protocol import load_protocol

        task = load_protocol(args.study_dir).task
        reads, ai = load_study(args.study_dir, args.db)
        if reads is None or len(reads) == 0:
            raise StudyError([f"{args.study_dir}: the store has no submitted reads yet"])
        if task.kind != "binary":
            paths = _write_task_report(args, task, reads)
        else:
            paths = write_report(reads, args.out, ai=ai, threshold=args.threshold, title=args.title or args.study_dir.name)
        from study.store import anchor_outputs  # the chain's head and row count, beside the outputs

        paths["audit_anchor"] = anchor_outputs(args.study_dir, args.db, args.out)
    except StudyError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    print(f"wrote {', '.join(p.name for p in paths.values())} to {args.out}", file=sys.stderr)
    return 0
