"""Reading a per-case CSV (cases.csv, a truth table) with one message per problem.

Both tables share the same rules: UTF-8 (a BOM from Excel is fine), the
required columns present, one non-empty, unique ``case_id`` per row.

A table whose header line has semicolons and no comma (Excel's "CSV" where the
decimal separator is a comma) is read with ';' between values; there a number
in the truth column with a decimal comma ("9,5") is 9.5, and a number that could
be read two ways ("1.234,5", "1,2,3", or points beside decimal commas) is refused,
naming the file, row and value.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from study.errors import StudyError

DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
NUMBER_LIKE = re.compile(r"[+-]?[\d.,]*\d[\d.,]*")  # digits with points or commas: a number, however written
POINT_NUMBER = re.compile(r"[+-]?\d*\.\d+")


def delimiter(text: str) -> str:
    """';' when the header line has semicolons and no comma (Excel in a decimal-comma locale), else ','."""
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def decimal_commas(
    path: Path, rows: list[tuple[int, dict[str, str]]], column: str = "truth", key: str = "case_id"
) -> dict[int, str]:
    """Rewrite ``column``'s decimal commas ("9,5" -> "9.5") in place, in a ';' table; {line number:
    problem} of the numbers that could be read two ways (each naming file, row, the row's ``key``
    and the value)."""
    problems: dict[int, str] = {}
    comma_rows = [n for n, v in rows if DECIMAL_COMMA.fullmatch(v.get(column) or "")]
    for line_no, values in rows:
        value = values.get(column) or ""
        if DECIMAL_COMMA.fullmatch(value):
            values[column] = value.replace(",", ".")
        elif "," in value and NUMBER_LIKE.fullmatch(value):
            problems[line_no] = (
                f"{path}: row {line_no} ({values.get(key, '')}): {column} {value!r} is an ambiguous number "
                "(write one decimal comma and no thousands separator, e.g. 1234,5)"
            )
        elif comma_rows and POINT_NUMBER.fullmatch(value):
            problems[line_no] = (
                f"{path}: row {line_no} ({values.get(key, '')}): {column} {value!r} has a decimal point where row "
                f"{comma_rows[0]} has a decimal comma; write every number with a comma (or save the table "
                "with ',' between values and decimal points)"
            )
    return problems


def read_text(path: Path) -> str:
    """The file's text (UTF-8, an Excel BOM dropped); StudyError naming the file and the line of a bad byte."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise StudyError([f"{path}: file not found"]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise StudyError(
            [
                f"{path}: line {line}: not UTF-8 text (invalid byte 0x{raw[err.start]:02x} at offset "
                f"{err.start}); save it as UTF-8 CSV"
            ]
        ) from None


def read_semicolon_rows(
    path: Path, text: str, numeric: tuple[str, ...], key: str
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, stripped row)]) of a ';' table (``delimiter(text) == ';'``), the
    decimal commas of its ``numeric`` columns made points.  Raises StudyError with one line per
    row with more values than columns or a number that could be read two ways (naming file, row,
    the row's ``key`` and the value)."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    for line_no, row in enumerate(reader, start=2):
        if None in row:
            problems.append(f"{path}: row {line_no}: more values than columns")
            continue
        rows.append((line_no, {k: (v or "").strip() for k, v in row.items()}))
    for column in (c for c in numeric if c in header):
        problems += decimal_commas(Path(path), rows, column, key).values()
    if problems:
        raise StudyError(problems)
    return header, rows


def read_case_rows(
    path: Path, required: tuple[str, ...]
) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[str]]:
    """(header, [(line number, stripped row)], problems) — rows with a bad case_id or an ambiguous
    number (see below) are left out.

    Values separated by ',' or, when the header line says so, by ';' (see the module's docstring)."""
    text = read_text(path)
    sep = delimiter(text)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sep)
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
    if sep == ";" and "truth" in header:
        ambiguous = decimal_commas(Path(path), rows)
        problems += ambiguous.values()
        rows = [(n, v) for n, v in rows if n not in ambiguous]
    return header, rows, problems
