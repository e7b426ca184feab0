"""Fixtures of the reading tests: fake clocks, a tiny real study, engines on the fake clock."""

from __future__ import annotations

import pytest

from tests.reading.helpers import FakeMonotonic, FakeNow, StudyFolder, make_study


@pytest.fixture
def mono() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def now() -> FakeNow:
    return FakeNow()


@pytest.fixture
def study(tmp_path) -> StudyFolder:
    return make_study(tmp_path / "study")


@pytest.fixture
def engine_factory(now):
    """Open StudyEngines on the fake wall clock; all closed at teardown."""
    from study.engine import StudyEngine

    opened = []

    def open_engine(folder: StudyFolder):
        engine = StudyEngine.open(folder.path, clock=now)
        opened.append(engine)
        return engine

    yield open_engine
    for engine in opened:
        engine.close()

