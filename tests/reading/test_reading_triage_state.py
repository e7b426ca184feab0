"""Triage queue state on the real engine (no Qt): order, filter, confirm, time per slide."""

from __future__ import annotations

from app.reading.triage_state import TriageState
from study.store import reads_table
from tests.reading.helpers import make_study


def test_queue_sorted_filtered_and_confirmed(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", "multiclass", design="concurrent", mode="triage", n=5)
    outs = folder.put_ai()
    engine = engine_factory(folder)
    triage = TriageState(engine.start("r1", 1), engine.protocol, engine.ai_outputs(),
                         [c.case_id for c in engine.cases], clock=mono, now=now)
    scores = [r.score for r in triage.rows]
    assert scores == sorted(scores, reverse=True) and [r.rank for r in triage.rows] == [1, 2, 3, 4, 5]
    assert triage.remaining == 5
    triage.set_filter("normal")
    assert [r.ai_class for r in triage.visible_rows()] == ["normal", "normal"]
    first = triage.open_next()
    assert first.ai_class == "normal" and triage.reading.cam_visible  # opened with the CAM on
    triage.reading.media_shown()
    mono.advance(6)
    read = triage.confirm(1)  # override: CIN1
    assert read.case_id == first.case_id and read.answer == "CIN1" and read.active_ms == 6000
    assert read.cam_shown and read.cam_shown_ms == 6000
    assert triage.remaining == 4 and triage.current.ai_class == "normal"
    triage.set_filter(None)
    triage.reading.media_shown()
    triage.confirm(0)
    assert triage.current.rank == 1  # filter cleared: the most suspicious slide left
    while triage.current is not None:
        triage.reading.media_shown()
        row = triage.current
        triage.confirm(triage.labels.index(outs[row.case_id].predicted))
    assert triage.remaining == 0 and triage.reading.finished
    df = reads_table(folder.path)
    assert len(df) == 5 and set(df["case"]) == set(folder.case_ids)
