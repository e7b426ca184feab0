"""Recycled volume buffers are reused only when no view of them is alive."""

from __future__ import annotations

import numpy as np

from study.media.buffers import BufferPool

SHAPE = (3, 1024, 1024)  # 12 MB of float32: large enough to be pooled


def test_buffer_returns_to_the_pool_only_after_its_last_view_dies() -> None:
    pool = BufferPool(max_idle_bytes=64 * 1024**2)
    a = pool.empty(SHAPE, np.float32)
    a[...] = 7.0
    view = a[1]
    del a
    assert pool.idle_bytes == 0  # ``view`` still uses the memory
    b = pool.empty(SHAPE, np.float32)
    assert not np.shares_memory(b, view)
    b[...] = 1.0
    assert float(view.min()) == 7.0
    del view
    assert pool.idle_bytes == 12 * 1024**2
    c = pool.empty(SHAPE, np.float32)
    assert pool.idle_bytes == 0  # recycled
    assert c.shape == SHAPE and c.dtype == np.float32 and c.flags.c_contiguous
    assert not np.shares_memory(b, c)


def test_pool_keeps_at_most_its_idle_budget_and_small_arrays_bypass_it() -> None:
    pool = BufferPool(max_idle_bytes=20 * 1024**2)
    arrays = [pool.empty(SHAPE, np.float32) for _ in range(3)]
    del arrays
    assert pool.idle_bytes <= 20 * 1024**2
    small = pool.empty((4, 64, 64), np.float32)
    assert small.base is None  # plain numpy allocation
    pool.release_idle()
    assert pool.idle_bytes == 0
