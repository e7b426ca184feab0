"""Seeded, reproducible case orders and crossover blocks.

Every random choice derives from the study seed plus a purpose string, through
SHA-256, so the same study always gives the same orders on any machine and
Python version, and no two purposes share a random stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def rng_for(seed: int, *purpose: object) -> np.random.Generator:
    key = ":".join([str(seed), *map(str, purpose)]).encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))


def case_order(case_ids: Sequence[str], seed: int, reader: str, session_index: int) -> list[str]:
    """This reader's order for one session.

    Orders of a reader's two sessions always differ (when there are at least
    two cases) so recall of the previous order cannot carry over the washout.
    """
    ids = list(case_ids)
    order = [ids[i] for i in rng_for(seed, "order", reader, session_index).permutation(len(ids))]
    if session_index > 1 and len(ids) > 1:
        previous = case_order(ids, seed, reader, session_index - 1)
        attempt = 0
        while order == previous:
            attempt += 1
            order = [ids[i] for i in rng_for(seed, "order", reader, session_index, attempt).permutation(len(ids))]
    return order


def crossover_blocks(case_ids: Sequence[str], truths: Sequence[str], seed: int) -> tuple[set[str], set[str]]:
    """Split cases into two blocks of (nearly) equal size, stratified by truth,
    the same for every reader of the study."""
    rng = rng_for(seed, "crossover-blocks")
    block_a: set[str] = set()
    block_b: set[str] = set()
    by_truth: dict[str, list[str]] = {}
    for cid, truth in zip(case_ids, truths):
        by_truth.setdefault(truth, []).append(cid)
    for truth in sorted(by_truth):
        ids = by_truth[truth]
        shuffled = [ids[i] for i in rng.permutation(len(ids))]
        # Alternate which block gets the odd case out so block sizes stay balanced.
        first, second = (block_a, block_b) if len(block_a) <= len(block_b) else (block_b, block_a)
        half = (len(shuffled) + 1) // 2
        first.update(shuffled[:half])
        second.update(shuffled[half:])
    return block_a, block_b
