"""Region reads out of the store, as plain ``RegionRead`` records for the statistics.

``region_reads`` gives the latest read of each (reader, session, case),
corrections applied, like ``study.store.tables.reads_frame``; it refuses a
store whose audit chain is broken.  ``write_masks`` puts every mask in a folder
as PNGs for tools outside the app.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from study.region import RegionRead, decode_mask
from study.store.schema import ReaderRow, ReadRow


def region_spacing(text: str | None) -> tuple[float, float] | None:
    """The stored ``region_spacing`` JSON as (row_mm, col_mm), or None."""
    if not text:
        return None
    row, col = json.loads(text)
    return float(row), float(col)


def region_reads(study_dir: str | Path, url: str | None = None) -> list[RegionRead]:
    """Every reader's latest region read per session and case, in read order.

    mask: bool (H, W) (2-D images) or (N, H, W) (series); likelihood: the combined
    question's rating (None without one).  StudyError when the audit chain is broken.
    """
    from study.store import Store

    store = Store.open(study_dir, url)
    try:
        store.require_intact()
        with store.Session() as s:
            rows = s.execute(
                select(ReadRow, ReaderRow.code, ReaderRow.group)
                .join(ReaderRow, ReaderRow.id == ReadRow.reader_id)
                .where(ReadRow.region_mask.is_not(None))
                .order_by(ReadRow.id)
            ).all()
    finally:
        store.close()
    latest: dict[tuple, tuple] = {}
    for read, code, group in rows:
        latest[(read.reader_id, read.session_index, read.case_id)] = (read, code, group)
    return [
        RegionRead(
            reader=code,
            group=group,
            session=read.session_index,
            mode=read.mode,
            case_id=read.case_id,
            mask=decode_mask(read.region_mask),
            spacing_mm=region_spacing(read.region_spacing),
            accepted_unchanged=read.accepted_unchanged,
            edit_ms=int(read.edit_ms or 0),
            edit_count=int(read.edit_count or 0),
            likelihood=read.confidence,
        )
        for read, code, group in sorted(latest.values(), key=lambda t: t[0].id)
    ]


def mask_file_name(read: RegionRead) -> str:
    return f"{read.reader}_s{read.session}_{read.mode}_{read.case_id}.png"


def write_masks(reads: list[RegionRead], out_dir: str | Path) -> Path:
    """One 8-bit PNG per read (255 inside; a series' slices stacked vertically) and
    ``masks.csv`` indexing them; returns the index path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = out / "masks.csv"
    with index.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["reader", "group", "session", "mode", "case", "file", "slices", "pixels", "area_mm2"])
        for r in reads:
            flat = r.mask if r.mask.ndim == 2 else r.mask.reshape(-1, r.mask.shape[-1])
            Image.fromarray(flat.astype(np.uint8) * 255).save(out / mask_file_name(r))
            pixels = int(r.mask.sum())
            area = "" if r.spacing_mm is None else f"{pixels * r.spacing_mm[0] * r.spacing_mm[1]:.4f}"
            slices = 1 if r.mask.ndim == 2 else r.mask.shape[0]
            w.writerow([r.reader, r.group, r.session, r.mode, r.case_id, mask_file_name(r), slices, pixels, area])
    return index
