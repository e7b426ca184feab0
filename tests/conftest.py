"""Shared test set-up: every Qt test runs offscreen, no display needed."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _garbage_collected_on_the_gui_thread(qapp):
    """As in the app (``app.reading.theme.ensure_application``): no automatic collection, which
    a worker thread could trigger while the GUI thread is in Qt."""
    from app.workers import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread()
    yield


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Between tests, on the GUI thread: collect what the test left (by generation thresholds)."""
    if "app.workers" in sys.modules:
        sys.modules["app.workers"].collect_garbage()


@pytest.fixture(scope="session", autouse=True)
def _background_work_ends_before_qt():
    """Background workers (prefetch, library warm-up) end before Python tears Qt down at the
    end of the run, as the app's own exit does (``app.commands.open_study``)."""
    yield
    if "app.workers" in sys.modules:
        from app.workers import shutdown

        shutdown(30_000)
