"""Region reads out of the store, as plain ``RegionRead`` records for the statistics.

``region_reads`` gives the latest read of each (reader, session, case),
corrections applied, like ``study.store.tables.reads_frame``; it refuses a
store whose audit chain is broken.  ``write_masks`` puts every mask in a folder
as PNGs for tools outside the app; ``series_voxels`` gives the series' voxel spacing
for its volume columns.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from study.region import ML_FROM_MM3, RegionRead, decode_mask
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


MASK_COLUMNS = (
    "reader",
    "group",
    "session",
    "mode",
    "case",
    "file",
    "slices",
    "pixels",
    "area_mm2",
    "slice_mm",
    "volume_mm3",
    "volume_ml",
)


def write_masks(
    reads: list[RegionRead], out_dir: str | Path, voxel_mm: dict[str, tuple[float, float, float]] | None = None
) -> Path:
    """One 8-bit PNG per read (255 inside; a series' slices stacked vertically) and
    ``masks.csv`` indexing them (``MASK_COLUMNS``); returns the index path.

    ``area_mm2`` is summed over a series' slices.  ``voxel_mm``: case id -> (slice, row,
    column) mm of a series (``series_voxels``): its reads get ``slice_mm``, ``volume_mm3``
    (voxels x slice x row x column mm) and ``volume_ml``; empty for 2-D images and for
    cases not in it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = out / "masks.csv"
    with index.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MASK_COLUMNS)
        for r in reads:
            flat = r.mask if r.mask.ndim == 2 else r.mask.reshape(-1, r.mask.shape[-1])
            Image.fromarray(flat.astype(np.uint8) * 255).save(out / mask_file_name(r))
            pixels = int(r.mask.sum())
            area = "" if r.spacing_mm is None else f"{pixels * r.spacing_mm[0] * r.spacing_mm[1]:.4f}"
            slices = 1 if r.mask.ndim == 2 else r.mask.shape[0]
            voxel = (voxel_mm or {}).get(r.case_id) if slices > 1 else None
            volume = ["", "", ""]
            if voxel is not None:
                mm3 = pixels * voxel[0] * voxel[1] * voxel[2]
                volume = [f"{voxel[0]:.6g}", f"{mm3:.4f}", f"{mm3 / ML_FROM_MM3:.7f}"]
            w.writerow(
                [r.reader, r.group, r.session, r.mode, r.case_id, mask_file_name(r), slices, pixels, area, *volume]
            )
    return index


def series_voxels(
    study_dir: str | Path, slices: dict[str, int]
) -> tuple[dict[str, tuple[float, float, float]], list[str]]:
    """(case id -> (slice, row, column) mm, lines naming the cases without one) for the cases
    whose regions have ``slices[case_id]`` planes, from their media
    (``study.region.case_voxel_mm``, the study's ``spacing_mm`` winning in-plane, as the report
    and the reading screen).  2-D images and frames in time (video, cine) are in neither; a
    series without an even slice spacing, positions or pixel size, or whose media cannot be
    read, is a line naming the case and the cause."""
    from study.cases import load_cases
    from study.media import load
    from study.media.types import MediaError
    from study.protocol import load_protocol
    from study.region import NoVolumeError, case_voxel_mm

    series = {cid: n for cid, n in slices.items() if n > 1}
    if not series:
        return {}, []
    protocol = load_protocol(study_dir)
    cases = {c.case_id: c for c in load_cases(study_dir, protocol, check_media=False)}
    voxels, problems = {}, []
    for cid, n in series.items():
        case = cases.get(cid)
        if case is None or protocol.region_role not in case.media:
            problems.append(f"case {cid}: not in cases.csv (no {protocol.region_role} media), no volume")
            continue
        try:
            voxel = case_voxel_mm(load(case.media[protocol.region_role]), n, protocol.task.spacing_mm)
        except (NoVolumeError, MediaError) as exc:
            problems.append(f"case {cid}: {exc}")
            continue
        if voxel is not None:
            voxels[cid] = voxel
    return voxels, problems
