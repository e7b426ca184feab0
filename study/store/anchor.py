"""Anchors of the audit chain outside the database.

An anchor is one line, ``readerstudy-audit-anchor store=UUID rows=N head=HASH
at=TIME by=WHAT``: the chain's row count and head hash at a moment (a report,
an export, the end of a reading session).  Each anchor is appended to
``readerstudy.anchors`` in the study folder and written into the outputs, so
a chain that was truncated (last rows deleted and ``audit_head`` set back) or
recomputed after an edit no longer matches an anchor and ``status`` says so.
An anchor proves nothing about rows appended after it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from study.store.audit import Anchor

ANCHOR_FILE = "readerstudy.anchors"
PREFIX = "readerstudy-audit-anchor"
_LINE = re.compile(
    PREFIX + r" store=(?P<store>\S+) rows=(?P<rows>\d+) head=(?P<head>[0-9a-f]{64}) "
    r"at=(?P<at>\S+) by=(?P<by>.*)"
)


def format_line(store_id: str, rows: int, head: str, where: str) -> str:
    at = datetime.now(UTC).replace(microsecond=0).isoformat()
    where = " ".join(where.split())  # one line
    return f"{PREFIX} store={store_id} rows={rows} head={head} at={at} by={where}"


def parse(text: str) -> list[tuple[str, Anchor]]:
    """Every anchor line in a text (an anchor file, a CSV header, a JSON or PDF file's bytes)."""
    out = []
    for m in _LINE.finditer(text):
        out.append((m["store"], Anchor(int(m["rows"]), m["head"], m["at"], m["by"].strip().rstrip('",')[:200])))
    return out


def append(study_dir: str | Path, line: str) -> None:
    """Append one line to the study's anchor file (opened in append mode only)."""
    with open(Path(study_dir) / ANCHOR_FILE, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()


def read(study_dir: str | Path, store_id: str) -> list[Anchor]:
    """The anchors of one store recorded in the study folder (none when the file is absent)."""
    path = Path(study_dir) / ANCHOR_FILE
    if not path.is_file():
        return []
    return [a for sid, a in parse(path.read_text(encoding="utf-8", errors="replace")) if sid == store_id]


def in_outputs(paths: list[Path], store_id: str) -> list[Anchor]:
    """Anchors of this store found in output files (CSV, JSON, text; PDF metadata is plain bytes)."""
    found = []
    for p in paths:
        files = sorted(q for q in Path(p).rglob("*") if q.is_file()) if Path(p).is_dir() else [Path(p)]
        for f in files:
            text = f.read_bytes().decode("latin-1")
            found += [a for sid, a in parse(text) if sid == store_id]
    return found
