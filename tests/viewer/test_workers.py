"""create_worker: results, progress, errors and cancellation cross threads as signals."""

from __future__ import annotations

import logging
import threading

import pytest

from app.workers import active_workers, create_worker


def test_plain_function_result_arrives_on_gui_thread(qtbot):
    seen = {}

    def work(a, b):
        seen["worker_thread"] = threading.current_thread() is threading.main_thread()
        return a + b

    def on_result(value):
        seen["slot_thread"] = threading.current_thread() is threading.main_thread()
        seen["value"] = value

    worker = create_worker(work, 2, b=3)
    worker.result_ready.connect(on_result)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert seen == {"worker_thread": False, "slot_thread": True, "value": 5}


def test_generator_yields_progress_then_result(qtbot):
    def count(n):
        yield from range(n)
        return "done"

    progress = []
    worker = create_worker(count, 4)
    worker.progress.connect(progress.append)
    with qtbot.waitSignal(worker.result_ready, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["done"]
    qtbot.waitUntil(lambda: not worker.is_running)
    assert progress == [0, 1, 2, 3]


def test_error_is_emitted_with_the_exception(qtbot):
    def boom():
        raise ValueError("bad pixel data")

    worker = create_worker(boom)
    results = []
    worker.result_ready.connect(results.append)
    with qtbot.waitSignal(worker.errored, timeout=5000) as blocker:
        worker.start()
    assert isinstance(blocker.args[0], ValueError)
    assert str(blocker.args[0]) == "bad pixel data"
    qtbot.waitUntil(lambda: not worker.is_running)
    assert results == []


def test_unhandled_error_is_logged_with_traceback(qtbot, caplog):
    def boom():
        raise RuntimeError("nobody listens")

    worker = create_worker(boom)
    with caplog.at_level(logging.ERROR, logger="app.workers"):
        with qtbot.waitSignal(worker.finished, timeout=5000):
            worker.start()
    (record,) = [r for r in caplog.records if r.name == "app.workers"]
    assert record.exc_info[0] is RuntimeError
    assert "boom" in caplog.text  # the traceback names the failing function


def test_cancel_stops_generator_at_next_yield(qtbot):
    gate = threading.Event()
    closed = threading.Event()
    produced = []

    def slow():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
                gate.wait(5)  # the first yield parks here until the test cancels
        finally:
            closed.set()

    worker = create_worker(slow)
    results = []
    worker.result_ready.connect(results.append)
    with qtbot.waitSignal(worker.progress, timeout=5000):
        worker.start()
    with qtbot.waitSignal(worker.aborted, timeout=5000):
        worker.cancel()
        gate.set()
    qtbot.waitUntil(lambda: not worker.is_running)
    assert closed.is_set()
    assert len(produced) < 1000
    assert results == []


def test_plain_function_receives_cancel_event(qtbot):
    woke = []
    running = threading.Event()

    def wait_for_cancel(cancel_event):
        running.set()
        woke.append(cancel_event.wait(5))

    worker = create_worker(wait_for_cancel)
    worker.start()
    qtbot.waitUntil(running.is_set, timeout=5000)  # inside fn, not merely started
    with qtbot.waitSignal(worker.aborted, timeout=5000):
        worker.cancel()
    assert woke == [True]


def test_worker_is_kept_alive_without_a_caller_reference(qtbot):
    got = []
    create_worker(lambda: 42, _start=True, _connect={"result_ready": got.append})
    qtbot.waitUntil(lambda: got == [42], timeout=5000)
    qtbot.waitUntil(lambda: not active_workers(), timeout=5000)


def test_start_twice_is_an_error(qtbot):
    worker = create_worker(lambda: None)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    with pytest.raises(RuntimeError):
        worker.start()


def test_shutdown_cancels_running_generators(qtbot):
    from app.workers import shutdown

    def forever():
        while True:
            yield None

    worker = create_worker(forever)
    with qtbot.waitSignal(worker.aborted, timeout=5000):
        worker.start()
        assert shutdown(5000)


def test_warm_up_runs_its_load_once_per_process(qtbot):
    import threading

    from app.workers import warm_up

    threads = []

    def load():
        threads.append(threading.current_thread())

    worker = warm_up(load)
    assert worker is not None
    qtbot.waitUntil(lambda: len(threads) == 1 and not worker.is_running, timeout=5000)
    assert threads[0] is not threading.main_thread()  # off the GUI thread
    assert warm_up(load) is None and len(threads) == 1  # already loaded: not again


def test_the_region_editor_libraries_load_without_error():
    from study.regiongeometry import load_libraries

    load_libraries()  # an import or attribute error here would only be logged by the warm-up


def test_garbage_is_collected_on_the_gui_thread_never_by_a_worker(qtbot):
    """A worker that allocates (a decode, an import) must not trigger the collection of cyclic
    garbage holding Qt objects: that destroys them off the GUI thread while it is in Qt (a heap
    corruption seen in CI as a segfault in ``PolyLineROI.addHandle``)."""
    import gc

    from app.reading.theme import ensure_application
    from app.workers import collect_garbage

    gc.enable()  # as in a fresh interpreter: ensure_application must turn automatic collection off
    ensure_application()
    assert not gc.isenabled()

    finalized_on: list[int] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            finalized_on.append(threading.get_ident())

    Cycle()  # unreachable at once, collectable only by the cycle collector

    def allocate() -> None:  # many times over the youngest generation's threshold
        for _ in range(50):
            junk = [{} for _ in range(2_000)]
            for d in junk:
                d["self"] = d

    worker = create_worker(allocate)
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        worker.start()
    assert finalized_on == []  # the worker's allocations collected nothing
    collect_garbage()
    gc.collect()
    assert finalized_on == [threading.get_ident()]
