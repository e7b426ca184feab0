"""Reads and AI outputs as long-format DataFrames for the statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from study.cases import binary_truth, load_cases
from study.protocol import load_protocol
from study.region import decode_mask
from study.regionreads import region_spacing
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
    # region tasks (empty otherwise): pixels and mm² of the drawn region, the AI's contour
    # submitted unchanged (aided), ms from first to last edit, number of edits
    "region_pixels",
    "region_area_mm2",
    "accepted_unchanged",
    "edit_ms",
    "edit_count",
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
    binary = protocol.task.kind == "binary" or protocol.task.has_likelihood
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
                **_region_metrics(read),
            }
        )
    frame = pd.DataFrame.from_records(records, columns=READ_COLUMNS)
    # The chain state these reads were checked against, for exports to carry (study.store.anchor).
    frame.attrs["audit_anchor"] = anchor
    return frame


def _region_metrics(read: ReadRow) -> dict:
    if read.region_mask is None:
        return {}
    pixels = int(decode_mask(read.region_mask).sum())
    spacing = region_spacing(read.region_spacing)
    return {
        "region_pixels": pixels,
        "region_area_mm2": None if spacing is None else pixels * spacing[0] * spacing[1],
        "accepted_unchanged": read.accepted_unchanged,
        "edit_ms": read.edit_ms,
        "edit_count": read.edit_count,
    }


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
    """Per case: AI score (``ai_rating``), decision at the model's operating point (0.5 without one), prediction and truth.

    ``ai_threshold`` / ``ai_threshold_rule``: the stored operating point the decision used (None / "" without one).
    """
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
                "ai_threshold": out.threshold if out.decision is not None else None,
                "ai_threshold_rule": out.threshold_rule
                or spec_threshold_rule(study_dir, protocol.model_spec, out.threshold),
                "truth": binary_truth(protocol.task, truth_raw)
                if protocol.task.kind == "binary" and truth_raw is not None
                else truth_raw,
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["case", "ai_rating", "ai_decision", "ai_threshold", "ai_threshold_rule", "predicted", "truth"]
    )


def spec_threshold_rule(study_dir: str | Path, model_spec: str | None, threshold: float | None) -> str:
    """``threshold_rule`` of the study's model.toml when its threshold is the stored one (outputs
    stored before they carried their rule); "" otherwise."""
    import tomllib

    if not model_spec or threshold is None:
        return ""
    try:
        model = tomllib.loads((Path(study_dir) / model_spec).read_text(encoding="utf-8")).get("model", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    same = isinstance(model.get("threshold"), int | float) and float(model["threshold"]) == float(threshold)
    return str(model.get("threshold_rule", "")) if same else ""


FIELD_VIEW_COLUMNS = [
    "reader",
    "session",
    "case",
    "read_id",
    "seq",
    "field_index",
    "shown_seconds",
    "decisive",
    "ai_rank",
    "in_top_k",
]


def field_views_frame(study_dir: str | Path, url: str | None = None) -> pd.DataFrame:
    """One row per opening of a specimen's field (issue 17), in the order stored.

    ``read_id`` is the read the opening counts towards: the read its sitting ended in,
    or, for a sitting left unanswered, the case's next read by that reader in that
    session (None while none exists).  ``decisive`` is only set on the sitting that
    ended in the read.  Refuses a broken audit chain like ``reads_frame``."""
    from study.store import Store
    from study.store.schema import FieldViewRow

    store = Store.open(study_dir, url)
    try:
        store.require_intact()
        with store.Session() as s:
            rows = s.execute(
                select(FieldViewRow, ReaderRow.code)
                .join(ReaderRow, ReaderRow.id == FieldViewRow.reader_id)
                .order_by(FieldViewRow.id)
            ).all()
    finally:
        store.close()
    pending: dict[tuple, list[dict]] = {}
    records: list[dict] = []
    for v, code in rows:
        record = {
            "reader": code,
            "session": v.session_index,
            "case": v.case_id,
            "read_id": v.read_id,
            "seq": v.seq,
            "field_index": v.field_index,
            "shown_seconds": v.shown_ms / 1000.0,
            "decisive": bool(v.decisive),
            "ai_rank": v.ai_rank,
            "in_top_k": v.in_top_k,
        }
        records.append(record)
        key = (v.reader_id, v.session_index, v.case_id)
        if v.read_id is None:
            pending.setdefault(key, []).append(record)
            continue
        for earlier in pending.pop(key, []):
            earlier["read_id"] = v.read_id
    return pd.DataFrame.from_records(records, columns=FIELD_VIEW_COLUMNS)
