"""MediaCache: LRU by count and bytes, shared loads across threads, staleness, errors."""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path

import pytest

from study.media import Media, MediaCache, MediaError, load
from tests.media.conftest import dicom_file

MR_BYTES = 64 * 64 * 4  # one float32 MR_small slice


@pytest.fixture
def mr_copies(tmp_path: Path) -> list[Path]:
    paths = []
    for k in range(5):
        p = tmp_path / f"case{k}.dcm"
        shutil.copy(dicom_file("MR_small.dcm"), p)
        paths.append(p)
    return paths


class CountingLoader:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, path: str) -> Media:
        with self.lock:
            self.calls.append(path)
        return load(path)


def test_hit_returns_the_same_media_without_loading_again(mr_copies: list[Path]) -> None:
    loader = CountingLoader()
    cache = MediaCache(loader=loader)
    a = cache.get(mr_copies[0])
    b = cache.get(str(mr_copies[0]))
    assert a is b and len(loader.calls) == 1
    assert mr_copies[0] in cache and cache.peek(mr_copies[0]) is a
    assert cache.nbytes == MR_BYTES and len(cache) == 1


def test_least_recently_used_is_evicted_by_count(mr_copies: list[Path]) -> None:
    cache = MediaCache(max_items=2)
    cache.get(mr_copies[0])
    cache.get(mr_copies[1])
    cache.get(mr_copies[0])  # 0 is now the most recent
    cache.get(mr_copies[2])
    assert mr_copies[1] not in cache
    assert mr_copies[0] in cache and mr_copies[2] in cache


def test_byte_budget_bounds_the_cache_and_oversize_items_pass_through(mr_copies: list[Path]) -> None:
    cache = MediaCache(max_bytes=2 * MR_BYTES, max_items=10)
    for p in mr_copies[:4]:
        cache.get(p)
    assert len(cache) == 2 and cache.nbytes == 2 * MR_BYTES
    tiny = MediaCache(max_bytes=MR_BYTES - 1)
    media = tiny.get(mr_copies[0])
    assert media.frames.shape == (1, 64, 64)
    assert len(tiny) == 0


def test_changed_file_is_loaded_again(mr_copies: list[Path]) -> None:
    cache = MediaCache()
    first = cache.get(mr_copies[0])
    shutil.copy(dicom_file("CT_small.dcm"), mr_copies[0])
    st = os.stat(mr_copies[0])
    os.utime(mr_copies[0], ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    second = cache.get(mr_copies[0])
    assert second is not first and second.frames.shape == (1, 128, 128)
    assert cache.nbytes == 128 * 128 * 4


def test_errors_propagate_and_are_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "late.dcm"
    path.write_bytes(dicom_file("MR_small.dcm").read_bytes()[:300])
    cache = MediaCache()
    with pytest.raises(MediaError):
        cache.get(path)
    assert path not in cache
    shutil.copy(dicom_file("MR_small.dcm"), path)
    assert cache.get(path).frames.shape == (1, 64, 64)


def test_two_threads_asking_for_one_path_share_one_load(mr_copies: list[Path]) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow_loader(path: str) -> Media:
        calls.append(path)
        entered.set()
        assert release.wait(10)
        return load(path)

    cache = MediaCache(loader=slow_loader)
    results: dict[str, Media] = {}
    worker = threading.Thread(target=lambda: results.setdefault("worker", cache.get(mr_copies[0])))
    worker.start()
    assert entered.wait(10)
    gui = threading.Thread(target=lambda: results.setdefault("gui", cache.get(mr_copies[0])))
    gui.start()
    release.set()
    worker.join(10)
    gui.join(10)
    assert len(calls) == 1
    assert results["worker"] is results["gui"]


def test_concurrent_prefetch_keeps_the_books_straight(mr_copies: list[Path]) -> None:
    filters_before = list(warnings.filters)
    cache = MediaCache(max_items=3)
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            for k in range(40):
                cache.get(mr_copies[(seed * 7 + k * 3) % len(mr_copies)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert warnings.filters == filters_before  # loaders' quiet() blocks did not leak across threads
    assert len(cache) <= 3
    assert cache.nbytes == len(cache) * MR_BYTES
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_invalid_bounds_are_rejected() -> None:
    with pytest.raises(ValueError):
        MediaCache(max_items=0)


def test_a_failed_shared_load_reaches_every_waiting_thread(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(dicom_file("MR_small.dcm").read_bytes()[:200])
    entered, release = threading.Event(), threading.Event()

    def slow_loader(path: str) -> Media:
        entered.set()
        assert release.wait(10)
        return load(path)

    cache = MediaCache(loader=slow_loader)
    causes: dict[str, str] = {}

    def ask(name: str) -> None:
        try:
            cache.get(bad)
        except MediaError as err:
            causes[name] = err.cause

    worker = threading.Thread(target=ask, args=("worker",))
    worker.start()
    assert entered.wait(10)
    gui = threading.Thread(target=ask, args=("gui",))
    gui.start()
    release.set()
    worker.join(10)
    gui.join(10)
    assert set(causes) == {"worker", "gui"}
    assert causes["worker"] == causes["gui"] and causes["gui"]
