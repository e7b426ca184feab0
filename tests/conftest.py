"""Shared test set-up: every Qt test runs offscreen, no display needed."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _background_work_ends_before_qt():
    """Background workers (prefetch, library warm-up) end before Python tears Qt down at the
    end of the run, as the app's own exit does (``app.commands.open_study``)."""
    yield
    if "app.workers" in sys.modules:
        from app.workers import shutdown

        shutdown(30_000)
