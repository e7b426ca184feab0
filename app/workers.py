"""The app's one way to run long work off the GUI thread.

Modelled on napari's ``create_worker``: wrap a function (or a generator
function) in a :class:`Worker`, connect to its signals, ``start()`` it on the
global ``QThreadPool``.  Only signals cross threads; the signal holder lives on
the GUI thread, so connected slots (functions, lambdas, methods) run there.

* plain function: runs; its return value is emitted as ``result_ready``.  If it
  declares a ``cancel_event`` parameter it receives a ``threading.Event`` that
  ``cancel()`` sets, so it can stop early.
* generator function: each ``yield`` value is emitted as ``progress``;
  cancellation is checked between yields; the ``return`` value is the result.

Every run emits ``started`` first and ``finished`` last; in between exactly one
of ``result_ready``, ``errored`` or ``aborted``.  Errors are never swallowed: an
exception is emitted via ``errored`` and, if nothing is connected to it,
logged with its traceback.
"""

from __future__ import annotations

import gc
import inspect
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import SIGNAL, QObject, QRunnable, QThreadPool, Signal

if TYPE_CHECKING:
    from pyqtgraph.util.garbage_collector import GarbageCollector

log = logging.getLogger(__name__)

# Workers that have been started and have not yet delivered their last signal.
# Holding them here keeps the signal holder alive until the GUI thread has run
# every queued slot (a deleted QObject silently drops its pending events).
_ACTIVE: set[Worker] = set()
_ACTIVE_LOCK = threading.Lock()


class WorkerSignals(QObject):
    """Signals of one worker; created on (and owned by) the GUI thread."""

    started = Signal()
    progress = Signal(object)
    result_ready = Signal(object)
    errored = Signal(object)
    finished = Signal()
    aborted = Signal()
    # Emitted after ``finished``: queued behind every other signal of this run,
    # so releasing the worker here cannot drop a pending slot call.
    _released = Signal()


class Worker(QRunnable):
    """A unit of background work; see the module docstring."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns the object, not the pool.
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancel_event = threading.Event()
        self._is_generator = inspect.isgeneratorfunction(fn)
        if not self._is_generator and _accepts_cancel_event(fn):
            self._kwargs.setdefault("cancel_event", self._cancel_event)
        self._started = False
        self.signals = WorkerSignals()
        self.signals._released.connect(self._on_released)

    # Signals are exposed on the worker itself for `worker.result_ready.connect(...)`.
    @property
    def started(self) -> Signal:
        return self.signals.started

    @property
    def progress(self) -> Signal:
        return self.signals.progress

    @property
    def result_ready(self) -> Signal:
        return self.signals.result_ready

    @property
    def errored(self) -> Signal:
        return self.signals.errored

    @property
    def finished(self) -> Signal:
        return self.signals.finished

    @property
    def aborted(self) -> Signal:
        return self.signals.aborted

    @property
    def is_cancelled(self) -> bool:
        return self._cancel_event.is_set()

    @property
    def is_running(self) -> bool:
        with _ACTIVE_LOCK:
            return self in _ACTIVE

    def start(self) -> None:
        """Queue the work on the global thread pool (once)."""
        if self._started:
            raise RuntimeError("a Worker can only be started once")
        self._started = True
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)
        QThreadPool.globalInstance().start(self)

    def cancel(self) -> None:
        """Ask the work to stop: generators stop at their next yield."""
        self._cancel_event.set()

    def run(self) -> None:  # called on a pool thread
        sig = self.signals
        sig.started.emit()
        try:
            if self._cancel_event.is_set():
                sig.aborted.emit()
            elif self._is_generator:
                self._run_generator()
            else:
                value = self._fn(*self._args, **self._kwargs)
                if self._cancel_event.is_set():
                    sig.aborted.emit()
                else:
                    sig.result_ready.emit(value)
        except BaseException as exc:  # noqa: BLE001 - reported, never swallowed
            self._report(exc)
        finally:
            sig.finished.emit()
            sig._released.emit()

    def _run_generator(self) -> None:
        gen = self._fn(*self._args, **self._kwargs)
        try:
            while True:
                if self._cancel_event.is_set():
                    gen.close()  # runs the generator's finally blocks
                    self.signals.aborted.emit()
                    return
                value = next(gen)
                self.signals.progress.emit(value)
        except StopIteration as stop:
            self.signals.result_ready.emit(stop.value)

    def _report(self, exc: BaseException) -> None:
        if self.signals.receivers(SIGNAL("errored(PyObject)")) == 0:
            log.error(
                "worker %s failed",
                getattr(self._fn, "__qualname__", self._fn),
                exc_info=(type(exc), exc, exc.__traceback__),
            )
        self.signals.errored.emit(exc)

    def _on_released(self) -> None:  # GUI thread, after every other slot of this run
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self)


def create_worker(
    fn: Callable[..., Any],
    *args: Any,
    _start: bool = False,
    _connect: dict[str, Callable[..., Any]] | None = None,
    **kwargs: Any,
) -> Worker:
    """Wrap ``fn(*args, **kwargs)`` in a :class:`Worker`.

    ``_connect`` maps signal names to slots (e.g. ``{"result_ready": show}``),
    connected before the optional ``_start``.
    """
    worker = Worker(fn, *args, **kwargs)
    for name, slot in (_connect or {}).items():
        getattr(worker, name).connect(slot)
    if _start:
        worker.start()
    return worker


_WARMED: set[Callable[[], Any]] = set()


def warm_up(load: Callable[[], Any]) -> Worker | None:
    """Run ``load`` (typically: import heavy libraries a screen will need) once per process on
    the pool, so the first user action that needs them does not stall the GUI thread.  Python's
    import lock makes a GUI-thread import that comes earlier wait for this one, never import
    twice.  Returns the started worker, or None when ``load`` already ran (or runs)."""
    if load in _WARMED:
        return None
    _WARMED.add(load)
    return create_worker(load, _start=True)


_COLLECTOR: GarbageCollector | None = None


def collect_garbage_on_gui_thread() -> None:
    """Python's cyclic garbage is collected on the GUI thread only, on a timer, never by a
    worker.  Automatic collection runs in whichever thread happens to allocate; a worker (a
    decode, a precompute batch, a warm-up import) would then destroy Qt objects caught in
    reference cycles (removed graphics items, closed screens) while the GUI thread is in Qt,
    corrupting Qt's heap (seen as a segfault in ``PolyLineROI.addHandle``).  pyqtgraph's
    ``GarbageCollector`` disables automatic collection and collects on a ``QTimer`` (every
    second, by the interpreter's own generation thresholds).  Call once a QApplication exists;
    calling again only makes sure automatic collection is still off."""
    global _COLLECTOR
    if _COLLECTOR is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _COLLECTOR = GarbageCollector(interval=1.0)
    gc.disable()


def collect_garbage() -> None:
    """Collect now, by the generation thresholds (GUI thread only: tests between cases)."""
    if _COLLECTOR is not None:
        _COLLECTOR.check()


def active_workers() -> list[Worker]:
    """Workers started and not yet finished (e.g. to cancel all on quit)."""
    with _ACTIVE_LOCK:
        return list(_ACTIVE)


def shutdown(timeout_ms: int = 3000) -> bool:
    """Cancel every active worker and wait for the pool (on quit); False on timeout."""
    for worker in active_workers():
        worker.cancel()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)


def _accepts_cancel_event(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return "cancel_event" in params
