"""Specimen workflow statistics of a stored study (issue 17), for the report and the Results tab.

Reads the field views and the AI's per-field scores from the store and hands them
to ``study.stats.specimens``.  The AI's picks of each specimen are its top-k fields
by score, k = ``[triage] top_k`` of the protocol; they fill in the decisive field's
"among the AI's picks" for unaided reads, where the store does not know it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from study.stats.specimens import specimen_summary, top_k_flags


def specimen_stats(study_dir: str | Path, reads: pd.DataFrame, url: str | None = None) -> list[dict]:
    """Per reader x modality specimen statistics; [] when no field was ever opened in a gallery."""
    from study import store  # lazy: the store pulls in SQLAlchemy
    from study.protocol import load_protocol
    from study.specimen import top_k

    views = store.field_views_table(study_dir, url)
    if not len(views):
        return []
    k = load_protocol(study_dir).triage_top_k
    st = store.Store.open(study_dir, url)
    try:
        outputs = st.ai_outputs()
    finally:
        st.close()
    picks = {cid: top_k(out.fields, k) for cid, out in outputs.items() if out.fields}
    return specimen_summary(reads, top_k_flags(views, picks))


def specimen_frame(rows: list[dict]) -> pd.DataFrame:
    """The summary as a flat table (the CI split into two columns)."""
    flat = []
    for r in rows:
        row = {k: v for k, v in r.items() if k != "decisive_in_top_k_ci95"}
        row["decisive_in_top_k_ci95_low"], row["decisive_in_top_k_ci95_high"] = r["decisive_in_top_k_ci95"]
        flat.append(row)
    return pd.DataFrame(flat)
