"""Reading a per-case CSV (cases.csv, a truth table) with one message per problem.

Both tables share the same rules: UTF-8 (a BOM from Excel is fine), the
required columns present, one non-empty, unique ``case_id`` per row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from study.errors import StudyError


def read_case_rows(
    path: Path, required: tuple[str, ...]
) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[str]]:
    """(header, [(line number, stripped row)], problems) — rows with a bad case_id are left out."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise StudyError([f"{path}: file not found"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise StudyError(
            [
                f"{path}: line {line}: not UTF-8 text (invalid byte 0x{raw[err.start]:02x} at offset "
                f"{err.start}); save it as UTF-8 CSV"
            ]
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise StudyError(
            [f"{path}: header: missing column {c!r} (columns are {', '.join(header) or 'none'})" for c in missing]
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        if None in row:
            problems.append(f"{path}: row {line_no}: more values than columns")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        case_id = values["case_id"]
        if not case_id:
            problems.append(f"{path}: row {line_no}: case_id is empty")
        elif case_id in seen:
            problems.append(f"{path}: row {line_no}: duplicate case_id {case_id!r} (first on row {seen[case_id]})")
        else:
            seen[case_id] = line_no
            rows.append((line_no, values))
    return header, rows, problems
