"""No read is stored "aided" without the AI: aided sessions stay closed while the protocol
names no model or outputs are still being computed, and an aided case without an output
(the model could not read it) is skipped, never read aided.  Sequential, crossover and
concurrent designs, on the engine (no Qt)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from study.aioutput import AIOutput
from study.engine import NO_AI_OUTPUT, NO_MODEL, ReadSubmission, SessionLocked, StudyEngine
from study.errors import StudyError
from study.store import reads_table
from tests.aimodel import attach_test_model, give_binary_ai

BEING_COMPUTED = "AI outputs being computed"


def _submit(rs, item, answer="1"):
    now = rs.engine.clock()
    return rs.submit(ReadSubmission(item.case_id, answer, now - timedelta(seconds=1), now, 1000, confidence=70.0))


def _read_all(rs) -> list[str]:
    read = []
    while (item := rs.next_item()) is not None:
        _submit(rs, item)
        read.append(item.case_id)
    rs.close()
    return read


def _put(engine, case_ids, model_id="m"):
    for cid in case_ids:
        engine.store.put_ai_output(AIOutput(cid, model_id, "binary", ("absent", "present"), (0.2, 0.8), score=0.8))


def _precompute_finished(engine, failed):
    engine.store.audit("precompute", "ai.precompute", {"model_id": "m", "computed": 0, "skipped": 0, "failed": failed})


@pytest.fixture
def open_engine(clock):
    engines = []

    def make(study):
        engine = StudyEngine.open(study, clock=clock)
        engines.append(engine)
        for code in ("r1", "r2"):
            engine.store.add_reader(code, "specialist", "1234")
        return engine

    yield make
    for engine in engines:
        engine.close()


def test_sequential_without_a_model_the_aided_session_stays_closed(make_study, tmp_path, open_engine):
    """The newcomer's steps: no model attached, session 1 read, washout overridden, session 2 started."""
    engine = open_engine(make_study(tmp_path / "s", n_cases=5))
    readiness = engine.ai_readiness()
    assert (readiness.expected, readiness.ready, readiness.computing) == (False, False, False)
    assert readiness.closed_reason == NO_MODEL
    assert _read_all(engine.start("r1", 1))
    engine.override_washout("r1", 2, "x")
    info = engine.sessions("r1")[1]
    assert (info.state, info.has_aided) == ("not started", True)  # the washout is waived ...
    assert engine.ai_closed_reason(info) == NO_MODEL  # ... the AI is what is missing
    with pytest.raises(SessionLocked) as err:
        engine.start("r1", 2)
    assert str(err.value) == f"Session 2 (aided) {NO_MODEL}."
    assert set(reads_table(engine.study_dir).modality) == {"unaided"}  # no read stored aided
    # The unaided session was never affected, and a done session reports nothing.
    assert engine.ai_closed_reason(engine.sessions("r1")[0]) is None
    # The admin attaches a model (study.toml) while this engine is open: it counts at once.
    attach_test_model(engine.study_dir)
    assert engine.ai_readiness().closed_reason == f"{BEING_COMPUTED}: 0 % (0 of 5 cases)"
    with pytest.raises(SessionLocked, match=BEING_COMPUTED):
        engine.start("r1", 2)
    _put(engine, [c.case_id for c in engine.cases])
    assert engine.ai_readiness().ready
    rs = engine.start("r1", 2)
    item = rs.next_item()
    assert item.mode == "aided" and rs.ai_output(item).score == pytest.approx(0.8)
    _read_all(rs)
    table = reads_table(engine.study_dir)
    assert sorted(table.modality.value_counts().items()) == [("aided", 5), ("unaided", 5)]


def test_an_aided_case_the_model_could_not_read_is_skipped_not_read_aided(make_study, tmp_path, open_engine, clock):
    engine = open_engine(make_study(tmp_path / "s", n_cases=6, washout_days=0))
    attach_test_model(engine.study_dir)
    ids = [c.case_id for c in engine.cases]
    _put(engine, ids[:5])
    _read_all(engine.start("r1", 1))
    with pytest.raises(SessionLocked, match=r"AI outputs being computed: 83 % \(5 of 6 cases\)"):
        engine.start("r1", 2)
    _precompute_finished(engine, [ids[5]])  # the run ends: the sixth case's media could not be read
    rs = engine.start("r1", 2)
    assert ids[5] in rs.unavailable and rs.progress() == (1, 6)
    assert ids[5] not in _read_all(rs)
    assert engine.sessions("r1")[1].state == "done"
    skipped = [json.loads(r["payload"]) for r in engine.store.audit_rows() if r["action"] == "case.unavailable"]
    assert skipped == [{"session": 2, "case": ids[5], "cause": NO_AI_OUTPUT}]
    aided = reads_table(engine.study_dir).query("modality == 'aided'")
    assert sorted(aided.case) == sorted(ids[:5])


def test_a_read_of_an_aided_case_without_output_is_refused(make_study, tmp_path, open_engine):
    """The store is the last word: a caller that submits the skipped case anyway is refused."""
    engine = open_engine(make_study(tmp_path / "s", n_cases=4, design="concurrent"))
    attach_test_model(engine.study_dir)
    ids = [c.case_id for c in engine.cases]
    _put(engine, ids[1:])
    _precompute_finished(engine, [ids[0]])
    rs = engine.start("r1", 1)
    assert ids[0] in rs.unavailable
    forged = type(rs.next_item())(ids[0], 1, 4, "aided", {})
    with pytest.raises(StudyError, match=f"read of case {ids[0]}: an aided read needs the AI's output for this case"):
        _submit(rs, forged)
    assert len(reads_table(engine.study_dir)) == 0
    rs.close()


def test_no_model_at_all_outputs_only_is_still_closed(make_study, tmp_path, open_engine):
    """Outputs in the store but no model named in the protocol: which model made them is not
    part of the study, so aided reads stay closed until a model is attached."""
    engine = open_engine(make_study(tmp_path / "s", n_cases=4, design="concurrent"))
    _put(engine, [c.case_id for c in engine.cases])
    with pytest.raises(SessionLocked, match="no model attached"):
        engine.start("r1", 1)


def test_every_case_unreadable_by_the_model_keeps_aided_reads_closed(make_study, tmp_path, open_engine):
    engine = open_engine(make_study(tmp_path / "s", n_cases=4, design="concurrent"))
    attach_test_model(engine.study_dir)
    _precompute_finished(engine, [c.case_id for c in engine.cases])
    with pytest.raises(SessionLocked, match="the model could not read any case"):
        engine.start("r1", 1)


def test_concurrent_without_a_model_has_no_session_to_open(make_study, tmp_path, open_engine):
    engine = open_engine(make_study(tmp_path / "s", n_cases=4, design="concurrent"))
    (info,) = engine.sessions("r1")
    assert (info.state, info.has_aided, engine.ai_closed_reason(info)) == ("not started", True, NO_MODEL)
    with pytest.raises(SessionLocked, match=r"^Session 1 \(aided\) needs the AI's outputs: no model attached"):
        engine.start("r1", 1)
    give_binary_ai(engine)
    assert len(_read_all(engine.start("r1", 1))) == 4
    assert set(reads_table(engine.study_dir).modality) == {"aided"}


def test_crossover_sessions_hold_aided_cases_and_wait_for_the_ai(make_study, tmp_path, open_engine, clock):
    """Both crossover sessions mix aided and unaided cases: neither opens without the AI, and a
    case the model could not read is skipped where it is aided and read where it is unaided."""
    engine = open_engine(make_study(tmp_path / "s", n_cases=8, design="crossover", washout_days=0))
    with pytest.raises(SessionLocked, match=r"^Session 1 needs the AI's outputs: no model attached"):
        engine.start("r1", 1)
    assert [engine.ai_closed_reason(i) for i in engine.sessions("r1")] == [NO_MODEL, NO_MODEL]
    attach_test_model(engine.study_dir)
    ids = [c.case_id for c in engine.cases]
    lost = ids[0]
    _put(engine, ids[1:])
    _precompute_finished(engine, [lost])
    for reader in ("r1", "r2"):
        for index in (1, 2):
            rs = engine.start(reader, index)
            read = _read_all(rs)
            assert (lost in read) == (rs.modes[lost] == "unaided")
    table = reads_table(engine.study_dir)
    lost_reads = table[table.case == lost]
    assert list(lost_reads.modality) == ["unaided", "unaided"]  # once per reader, never aided
    assert len(table) == 2 * 8 * 2 - 2 and table.query("modality == 'aided'").case.nunique() == 7
