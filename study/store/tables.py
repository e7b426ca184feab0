"""Reads and AI outputs as long-format DataFrames for the statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from study.cases import binary_truth, load_cases
from study.protocol import load_protocol
from study.store.schema import ReaderRow, ReadRow, SittingRow

READ_COLUMNS = [
    "reader",
    "group",
    "session",
    "modality",
    "case",
    "truth",
    "rating",
    "decision",
    "answer",
    "value",
    "distribution",
    "seconds",
    "displayed_at",
    "submitted_at",
    "cam_shown",
    "cam_seconds",
    "answer_changes",
    "read_id",
    "sittings",
    "sitting_seconds",
    "consistency",
]


def reads_frame(study_dir: str | Path, url: str | None = None) -> pd.DataFrame:
    """One row per (reader, session, case): the latest read, corrections applied.

    Raises StudyError ``AUDIT CHAIN BROKEN at row N`` when the store fails its
    audit check; ``frame.attrs["audit_anchor"]`` is the anchor line of the
    chain these reads were checked against.

    For binary tasks ``truth`` and ``decision`` are 0/1 and ``rating`` is the
    confidence (higher = more likely positive); for other tasks ``truth`` is the
    raw truth and ``answer``/``value``/``distribution`` carry the read.
    """
    from study.store import Store

    protocol = load_protocol(study_dir)
    cases = {c.case_id: c for c in load_cases(study_dir, protocol, check_media=False)}
    store = Store.open(study_dir, url)
    try:
        store.require_intact()  # never statistics from a tampered store
        anchor = store.anchor_line("reads table")
        with store.Session() as s:
            rows = s.execute(
                select(ReadRow, ReaderRow.code, ReaderRow.group)
                .join(ReaderRow, ReaderRow.id == ReadRow.reader_id)
                .order_by(ReadRow.id)
            ).all()
            sitting_rows = s.execute(
                select(
                    SittingRow.reader_id,
                    SittingRow.session_index,
                    SittingRow.case_id,
                    SittingRow.active_ms,
                    SittingRow.read_id,
                ).order_by(SittingRow.id)
            ).all()
    finally:
        store.close()
    latest: dict[tuple, tuple] = {}
    for read, code, group in rows:
        latest[(read.reader_id, read.session_index, read.case_id)] = (read, code, group)
    per_read = sittings_per_read(sitting_rows)
    binary = protocol.task.kind == "binary"
    records = []
    for read, code, group in latest.values():
        truth_raw = cases[read.case_id].truth if read.case_id in cases else None
        records.append(
            {
                "reader": code,
                "group": group,
                "session": read.session_index,
                "modality": read.mode,
                "case": read.case_id,
                "truth": (binary_truth(protocol.task, truth_raw) if binary and truth_raw is not None else truth_raw),
                "rating": read.confidence,
                "decision": int(read.answer) if binary else None,
                "answer": read.answer,
                "value": read.value,
                "distribution": json.loads(read.distribution) if read.distribution else None,
                "seconds": read.active_ms / 1000.0,
                "displayed_at": read.displayed_at,
                "submitted_at": read.submitted_at,
                "cam_shown": bool(read.cam_shown),
                "cam_seconds": read.cam_shown_ms / 1000.0,
                "answer_changes": read.answer_changes,
                "read_id": read.id,
                # Every sitting the read's ``seconds`` adds up (a case left and finished later).
                "sittings": len(per_read.get(read.id, [])) or 1,
                "sitting_seconds": ";".join(f"{ms / 1000.0:.1f}" for ms in per_read.get(read.id, [read.active_ms])),
                # binary: "consistent" | "contradictory" (category vs rating, study.consistency)
                "consistency": read.consistency,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=READ_COLUMNS)
    # The chain state these reads were checked against, for exports to carry (study.store.anchor).
    frame.attrs["audit_anchor"] = anchor
    return frame


def sittings_per_read(rows) -> dict[int, list[int]]:
    """read id -> active ms of each of its sittings: the sittings left unanswered since the
    case's previous read, then the one that ended in the submit (``StudyEngine.submit``)."""
    pending: dict[tuple, list[int]] = {}
    out: dict[int, list[int]] = {}
    for reader_id, session, case_id, active_ms, read_id in rows:
        key = (reader_id, session, case_id)
        pending.setdefault(key, []).append(active_ms)
        if read_id is not None:
            out[read_id] = pending.pop(key)
    return out


def ai_frame(study_dir: str | Path, url: str | None = None) -> pd.DataFrame:
    """Per case: AI score (``ai_rating``), decision at the model's operating point (0.5 without one), prediction and truth."""
    from study.store import Store

    protocol = load_protocol(study_dir)
    cases = {c.case_id: c for c in load_cases(study_dir, protocol, check_media=False)}
    store = Store.open(study_dir, url)
    try:
        store.require_intact()
        outputs = store.ai_outputs()
    finally:
        store.close()
    records = []
    for cid, out in outputs.items():
        truth_raw = cases[cid].truth if cid in cases else None
        records.append(
            {
                "case": cid,
                "ai_rating": out.score,
                "predicted": out.predicted,
                "ai_decision": out.decision,
                "truth": binary_truth(protocol.task, truth_raw)
                if protocol.task.kind == "binary" and truth_raw is not None
                else truth_raw,
            }
        )
    return pd.DataFrame.from_records(records, columns=["case", "ai_rating", "ai_decision", "predicted", "truth"])
