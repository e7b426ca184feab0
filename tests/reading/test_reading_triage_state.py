"""Triage queue state on the real engine (no Qt): order, filter, confirm, time per slide,
sittings when the reader jumps between slides, corrections, and the AI-free unaided form."""

from __future__ import annotations

import math

import pytest

from app.reading.triage_state import TriageState, score_class
from study.aioutput import AIOutput
from study.order import case_order
from study.store import reads_table
from tests.reading.helpers import make_study


def test_queue_sorted_filtered_and_confirmed(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", "multiclass", design="concurrent", mode="triage", n=5)
    outs = folder.put_ai()
    engine = engine_factory(folder)
    triage = TriageState(engine.start("r1", 1), engine.protocol, clock=mono, now=now)
    assert triage.aided and triage.score_class == "CIN2+"  # the test outputs' score is P(CIN2+)
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
    while triage.current is not None and not triage.current.done:
        triage.reading.media_shown()
        row = triage.current
        triage.confirm(triage.labels.index(outs[row.case_id].predicted))
    assert triage.remaining == 0 and triage.reading.finished
    df = reads_table(folder.path)
    assert len(df) == 5 and set(df["case"]) == set(folder.case_ids)


def test_jumping_between_slides_keeps_every_sitting(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", "multiclass", design="concurrent", mode="triage", n=3)
    folder.put_ai()
    engine = engine_factory(folder)
    session = engine.start("r1", 1)
    triage = TriageState(session, engine.protocol, clock=mono, now=now)
    a = triage.open_next().case_id
    triage.reading.media_shown()
    mono.advance(5)
    now.advance(seconds=5)
    b = triage.rows[1].case_id
    triage.open(b)  # jump to another slide: slide a's 5 s are a sitting
    triage.reading.media_shown()
    mono.advance(2)
    triage.confirm(0)
    triage.open(a)
    triage.reading.media_shown()
    mono.advance(3)
    triage.confirm(2)
    table = reads_table(folder.path).set_index("case")
    assert table.loc[a, "seconds"] == 8.0 and table.loc[a, "sitting_seconds"] == "5.0;3.0"
    assert table.loc[b, "seconds"] == 2.0 and table.loc[b, "sittings"] == 1
    assert [(s.case_id, s.outcome, s.active_ms) for s in session.sittings()] == [
        (a, "left", 5000),
        (b, "submitted", 2000),
        (a, "submitted", 3000),
    ]


def test_reviewed_slide_is_corrected_with_a_reason(engine_factory, tmp_path, mono, now):
    folder = make_study(tmp_path / "s", "multiclass", design="concurrent", mode="triage", n=3)
    folder.put_ai()
    engine = engine_factory(folder)
    session = engine.start("r1", 1)
    triage = TriageState(session, engine.protocol, clock=mono, now=now)
    first = triage.open_next().case_id
    triage.reading.media_shown()
    triage.confirm(0)
    triage.open(first)
    assert triage.correcting and triage.previous_answer() == "normal"
    triage.reading.media_shown()
    with pytest.raises(ValueError, match="reason"):
        triage.confirm(2)
    triage.confirm(2, reason="missed the koilocytes")
    df = reads_table(folder.path).set_index("case")
    assert df.loc[first, "answer"] == "CIN2+" and len(df) == 1
    rows = session.engine.store.Session()
    from sqlalchemy import select

    from study.store.schema import ReadRow

    with rows as s:
        reads = s.execute(select(ReadRow).order_by(ReadRow.id)).scalars().all()
    assert [r.answer for r in reads] == ["normal", "CIN2+"]
    assert reads[1].supersedes_id == reads[0].id and reads[1].correction_reason == "missed the koilocytes"
    summary = triage.reading.summary()  # one slide answered, then corrected: one case read, both times counted
    assert summary.cases_read == 1 and summary.active_ms == sum(r.active_ms for r in reads)


@pytest.mark.parametrize("design", ["sequential", "crossover"])
def test_unaided_form_holds_no_ai_and_keeps_the_readers_order(engine_factory, tmp_path, mono, now, design):
    folder = make_study(tmp_path / "s", "multiclass", design=design, mode="triage", n=6)
    folder.put_ai()
    engine = engine_factory(folder)
    session = engine.start("r1", 1)
    triage = TriageState(session, engine.protocol, clock=mono, now=now)
    unaided = [cid for cid in session.order if session.modes[cid] == "unaided"]
    assert not triage.aided and triage._ai == {} and triage.score_class == ""
    assert [r.case_id for r in triage.rows] == unaided  # the reader's seeded order, not the AI's
    assert session.order == case_order(folder.case_ids, folder.protocol.seed, "r1", 1)
    assert all(r.ai_class == "" and math.isnan(r.score) for r in triage.rows)
    triage.set_filter("normal")
    assert triage.class_filter is None  # no filter by AI class
    for _ in unaided:
        triage.open_next()
        triage.reading.media_shown()
        assert triage.reading.ai is None and not triage.reading.has_cam
        assert not _holds_ai(triage)
        triage.confirm(1)
    if design == "crossover":  # the aided part follows, ranked by the AI
        assert triage.aided and triage.block_index == 1 and triage.current is not None
        assert {r.case_id for r in triage.rows} == {c for c, m in session.modes.items() if m == "aided"}
        assert set(triage._ai) == {r.case_id for r in triage.rows}
    else:
        assert triage.current is None


def _holds_ai(obj, seen=None) -> bool:
    """True if an AIOutput is reachable from obj's attributes (not through the engine)."""
    seen = seen if seen is not None else set()
    if id(obj) in seen or obj is None or isinstance(obj, (str, int, float, bool)):
        return False
    seen.add(id(obj))
    if isinstance(obj, AIOutput):
        return True
    if isinstance(obj, dict):
        return any(_holds_ai(v, seen) or _holds_ai(k, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return any(_holds_ai(v, seen) for v in obj)
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith("app."):
        return any(_holds_ai(v, seen) for v in vars(obj).values())
    return False


def test_score_column_names_its_class():
    from study.protocol import HangingProtocol, Protocol, Task

    labels = ("normal", "CIN1", "CIN2+")
    proto = Protocol(
        "t",
        "t",
        "concurrent",
        1,
        Task("multiclass", "?", labels=labels, positive=("CIN1", "CIN2+")),
        HangingProtocol(("photo",)),
    )

    def out(p, score):
        return AIOutput("c", "m", "multiclass", labels, p, predicted="x", score=score)

    assert score_class([out((0.1, 0.2, 0.7), 0.7), out((0.5, 0.3, 0.2), 0.2)], proto) == "CIN2+"
    assert score_class([out((0.1, 0.2, 0.7), 0.9), out((0.5, 0.3, 0.2), 0.5)], proto) == "CIN1+CIN2+"
    assert score_class([out((0.1, 0.2, 0.7), 0.42)], proto) == ""
