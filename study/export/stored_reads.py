"""Every stored column of every read, for reads.csv: nothing the store knows is left out.

The columns are reflected from the database itself (SQLAlchemy reflection),
not listed here, so a column another part of the application adds to the
``reads`` table (by a migration) appears in the export without a change here.
Rows of other tables that point at a read (a ``read_id``-style foreign key to
``reads.id``) are counted per read as ``<table>_n``.  The sittings a read adds up
(a case left and finished later) are ``sittings`` and ``sitting_seconds``
("5.0;20.0"), as in the statistics' reads table.  Corrected
reads keep every version: ``supersedes_id`` links a correction to the read it
replaces and ``current`` marks the version the statistics use.  Binary columns
(a region read's mask PNG) are not written as bytes: a region mask becomes
``region_pixels`` and ``region_area_mm2`` (from ``region_spacing``), any other
binary column its size in bytes (``<column>_bytes``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Integer, LargeBinary, MetaData, func, select

FIRST = ["read_id", "reader", "group", "session_index", "mode", "case_id", "truth", "current"]


def stored_reads_frame(study_dir: str | Path, url: str | None = None) -> pd.DataFrame:
    """All rows of the ``reads`` table with reader code and group, case truth and ``current``.

    Returns one row per stored read version, ordered by id, with the
    database's own column names (``id`` becomes ``read_id``).
    """
    from study.cases import load_cases
    from study.protocol import load_protocol
    from study.store import Store
    from study.store.tables import sittings_per_read

    protocol = load_protocol(study_dir)
    truth = {c.case_id: c.truth for c in load_cases(study_dir, protocol, check_media=False)}
    store = Store.open(study_dir, url)
    try:
        store.require_intact()  # never an export of a tampered store
        meta = MetaData()
        meta.reflect(store.engine, only=lambda name, _: True)
        reads = meta.tables["reads"]
        readers = meta.tables["readers"]
        group_col = "reader_group" if "reader_group" in readers.c else None
        cols = [readers.c.code.label("reader")] + ([readers.c[group_col].label("group")] if group_col else [])
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(reads, *cols).join(readers, readers.c.id == reads.c.reader_id).order_by(reads.c.id)
            )
            df = pd.DataFrame(rows.fetchall(), columns=list(rows.keys()))
            for table in meta.sorted_tables:
                fks = [fk for fk in table.foreign_keys if fk.column.table.name == "reads" and table.name != "reads"]
                for fk in fks:
                    counts = dict(conn.execute(select(fk.parent, func.count()).group_by(fk.parent)).all())
                    df[f"{table.name}_n"] = df["id"].map(counts).fillna(0).astype(int)
            if "sittings" in meta.tables:
                st = meta.tables["sittings"]
                per_read = sittings_per_read(
                    conn.execute(
                        select(st.c.reader_id, st.c.session_index, st.c.case_id, st.c.active_ms, st.c.read_id).order_by(
                            st.c.id
                        )
                    ).all()
                )
                ms = df.apply(lambda r: per_read.get(r["id"], [r["active_ms"]]), axis=1) if len(df) else []
                df["sittings"] = [len(x) for x in ms]
                df["sitting_seconds"] = [";".join(f"{v / 1000.0:.1f}" for v in x) for x in ms]
    finally:
        store.close()
    df = _readable(df, [c.name for c in reads.columns if isinstance(c.type, LargeBinary)])
    for c in reads.columns:  # an integer column with empty cells (supersedes_id, edit_ms) stays integer: 1, not 1.0
        if isinstance(c.type, Integer) and c.name in df.columns and df[c.name].dtype.kind == "f":
            df[c.name] = df[c.name].astype("Int64")
    df = df.rename(columns={"id": "read_id"})
    df["truth"] = df["case_id"].map(truth)
    superseded = set(df["supersedes_id"].dropna().astype(int)) if "supersedes_id" in df.columns else set()
    df["current"] = ~df["read_id"].isin(superseded)
    first = [c for c in FIRST if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]]


def _readable(df: pd.DataFrame, binary: list[str]) -> pd.DataFrame:
    """``df`` with its binary columns replaced by readable ones (see the module's docstring)."""
    from study.region import decode_mask
    from study.regionreads import region_spacing

    for col in binary:
        if col not in df.columns:
            continue
        if col == "region_mask":
            pixels = [int(decode_mask(b).sum()) if isinstance(b, bytes) else None for b in df[col]]
            spacing = [
                region_spacing(s if isinstance(s, str) else None) for s in df.get("region_spacing", [None] * len(df))
            ]
            df["region_pixels"] = pd.array(pixels, dtype="Int64")
            df["region_area_mm2"] = [
                None if p is None or sp is None else p * sp[0] * sp[1] for p, sp in zip(pixels, spacing)
            ]
        else:
            df[f"{col}_bytes"] = pd.array([len(b) if isinstance(b, bytes) else None for b in df[col]], dtype="Int64")
        df = df.drop(columns=[col])
    return df
