"""Issue 10: the category-vs-likelihood check of a binary read, stored with the read on both backends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from study.consistency import binary_consistency
from study.engine import ReadSubmission, StudyEngine
from study.errors import StudyError
from study.store import Store, reads_table
from study.store.db import MIGRATIONS, default_url, make_engine
from study.store.schema import ReadRow


@pytest.mark.parametrize(
    ("answer", "rating", "scale", "expected"),
    [
        (0, 75, (0, 100), "contradictory"),  # "leiomyoma" at 75 % likelihood of sarcoma
        (1, 5, (0, 100), "contradictory"),  # "sarcoma" at 5 %
        (0, 50, (0, 100), "consistent"),  # the midpoint agrees with either category
        (1, 50, (0, 100), "consistent"),
        (1, 51, (0, 100), "consistent"),
        (0, 4, (1, 5), "contradictory"),
        (1, 2, (1, 5), "contradictory"),
        (0, 3, (1, 5), "consistent"),
        (1, None, (0, 100), None),
    ],
)
def test_binary_consistency_rule(answer, rating, scale, expected):
    assert binary_consistency(answer, rating, scale) == expected


def _read(engine, item, answer: str, confidence: float) -> ReadSubmission:
    at = engine.clock()
    return ReadSubmission(item.case_id, answer, at, at + timedelta(seconds=3), 3000, confidence=confidence)


def _stored(engine) -> list[tuple[str, float, str | None]]:
    with engine.store.Session() as s:
        return [
            (r.answer, r.confidence, r.consistency) for r in s.execute(select(ReadRow).order_by(ReadRow.id)).scalars()
        ]


def test_outcome_is_stored_with_the_read(study_dir, db_url, clock):
    engine = StudyEngine.open(study_dir, db_url, clock=clock)
    try:
        engine.store.add_reader("r1", "resident", "2468")
        session = engine.start("r1", 1)
        session.submit(_read(engine, session.next_item(), "0", 75.0))
        session.submit(_read(engine, session.next_item(), "1", 80.0))
        assert _stored(engine) == [("0", 75.0, "contradictory"), ("1", 80.0, "consistent")]
        table = reads_table(study_dir, db_url)  # the long-format table the statistics read
        assert list(table["consistency"]) == ["contradictory", "consistent"]
        audited = [r for r in engine.store.audit_rows() if r["action"] == "read.submitted"]
        assert [json.loads(r["payload"])["consistency"] for r in audited] == ["contradictory", "consistent"]
        session.close()
    finally:
        engine.close()


def test_block_refuses_and_stores_nothing(study_dir, db_url, clock):
    toml = study_dir / "study.toml"
    toml.write_text(toml.read_text().replace('consistency = "warn"', 'consistency = "block"'))
    engine = StudyEngine.open(study_dir, db_url, clock=clock)
    try:
        engine.store.add_reader("r1", "resident", "2468")
        session = engine.start("r1", 1)
        item = session.next_item()
        with pytest.raises(StudyError, match='task.consistency = "block"'):
            session.submit(_read(engine, item, "1", 5.0))
        assert _stored(engine) == []
        session.submit(_read(engine, item, "1", 95.0))
        assert _stored(engine) == [("1", 95.0, "consistent")]
        session.close()
    finally:
        engine.close()


def test_migration_0003_adds_the_column_to_an_existing_store(study_dir):
    engine = make_engine(default_url(study_dir))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert "consistency" not in {c["name"] for c in inspect(engine).get_columns("reads")}
    engine.dispose()
    store = Store.open(study_dir)  # upgrades to head
    try:
        assert "consistency" in {c["name"] for c in inspect(store.engine).get_columns("reads")}
    finally:
        store.close()
