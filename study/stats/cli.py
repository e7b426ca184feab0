"""`readerstudy analyze READS.csv|STUDY.imrmc --json OUT.json [--threshold T] [--ai AI.csv] [--ai-threshold T] [--report DIR]`.

Exit 0 on success; 2 with one line per problem on stderr for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from study.errors import StudyError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reads",
        type=Path,
        help="long-format reads CSV (reader, modality, case, truth, rating, ...) or an iMRMC .imrmc file",
    )
    parser.add_argument("--json", type=Path, help="write the results here (default: print to stdout)")
    parser.add_argument(
        "--threshold", type=float, help="readers' decision cut: rating >= T (default: midpoint of their scale)"
    )
    parser.add_argument("--ai", type=Path, help="AI outputs CSV with case, ai_rating[, ai_decision]")
    parser.add_argument(
        "--ai-subset",
        action="store_true",
        help="accept AI outputs for only some of the readers' cases (the AI row then covers those; default: refuse)",
    )
    parser.add_argument(
        "--ai-threshold",
        type=float,
        help="AI's decision cut: score >= T (default: the model's own decision, else the midpoint of its score scale)",
    )
    parser.add_argument(
        "--cov",
        choices=("jackknife", "delong", "unbiased"),
        default="jackknife",
        help="case covariance for the MRMC analysis (designs that are not fully crossed use 'unbiased')",
    )
    parser.add_argument(
        "--fixed-readers",
        choices=("hillis", "mrmcaov"),
        default="hillis",
        help="fixed-reader denominator: Hillis 2007 / Iowa OR-DBM (default) or MRMCaov's convention",
    )
    parser.add_argument(
        "--min-read-seconds", type=float, default=2.0, help="reads faster than this are flagged in the reading-time QC"
    )
    parser.add_argument("--report", type=Path, help="also write the export folder (CSV, XLSX, iMRMC, JSON, PDF) here")
    parser.add_argument("--title", default="Reader study report", help="report title")


# Columns read as numbers: a ';' table writes their decimals with a comma.
NUMERIC_COLUMNS = ("truth", "rating", "decision", "seconds", "ai_rating", "ai_decision", "ai_threshold")


def read_csv(path: Path, what: str):
    """Read a CSV or raise StudyError naming the file (and the row and value of a bad number).

    As ``study.csvtable`` reads truth tables: values separated by ',' or, when the header
    line has semicolons and no comma (Excel in a decimal-comma locale), by ';' with decimal
    commas ("72,5") in the numeric columns; a number that could be read two ways is refused."""
    import pandas as pd

    from study.csvtable import delimiter, read_semicolon_rows, read_text

    if not path.is_file():
        raise StudyError([f"{path}: {what} file not found"])
    text = read_text(path)
    if delimiter(text) == ";":
        header, rows = read_semicolon_rows(path, text, NUMERIC_COLUMNS, key="case")
        frame = pd.DataFrame([values for _, values in rows], columns=header, dtype="string")
        frame = frame.mask(frame.eq("")).astype(object)  # an empty cell is missing, as pandas reads ',' tables
        for column in (c for c in NUMERIC_COLUMNS if c in frame.columns):
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum():  # all numbers: typed as pandas would
                frame[column] = converted
        return frame
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StudyError([f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}"]) from None


def run(args: argparse.Namespace) -> int:
    from study.stats.analysis import analyze, jsonable

    try:
        if args.reads.suffix.lower() == ".imrmc":
            from study.export.imrmc import read_imrmc

            reads = read_imrmc(args.reads)
        else:
            reads = read_csv(args.reads, "reads")
        ai = read_csv(args.ai, "AI outputs") if args.ai else None
        result = analyze(
            reads,
            ai=ai,
            threshold=args.threshold,
            cov=args.cov,
            source=str(args.reads),
            ai_threshold=args.ai_threshold,
            min_read_seconds=args.min_read_seconds,
            fixed_reader_convention=args.fixed_readers,
            ai_subset=args.ai_subset,
            ai_source=str(args.ai) if args.ai else "AI outputs",
        )
        text = json.dumps(jsonable(result), indent=1, allow_nan=False)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text + "\n")
        if args.report:
            from study.export.report import write_report

            paths = write_report(
                reads,
                args.report,
                ai=ai,
                threshold=args.threshold,
                result=result,
                title=args.title,
                ai_threshold=args.ai_threshold,
            )
            print(f"wrote {len(paths)} files to {args.report}", file=sys.stderr)
    except StudyError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    return 0
