"""Fixtures of the reading tests: fake clocks, a tiny real study, engines on the fake clock."""

from __future__ import annotations

import pytest

from tests.reading.helpers import FakeMonotonic, FakeNow, StudyFolder, make_study


@pytest.fixture(autouse=True)
def themed(qapp):
    """The app's own style, palette and stylesheet (hit areas of sliders depend on them);
    restored afterwards so other test folders see the application as they left it."""
    from PySide6.QtWidgets import QApplication

    from app.reading.theme import apply_theme

    saved = (qapp.style().name(), QApplication.palette(), qapp.styleSheet(), qapp.font())
    apply_theme(qapp)
    yield
    style, palette, sheet, font = saved
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


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


from tests.reading.region_mouse import every_mouse_move  # noqa: E402,F401  (fixture)
from tests.wsi_slides import wsi_slides  # noqa: E402, F401 - a session fixture shared with other folders
