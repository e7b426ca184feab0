"""Small demo builds, made once per test session (they are real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.demo import STUDIES, builder

SEED = 7


@pytest.fixture(scope="session")
def small_study(tmp_path_factory):
    """small_study(name) -> folder of a small build with SEED, built on first use."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = builder(name)(tmp_path_factory.mktemp(f"demo-{name}") / name, SEED, STUDIES[name])
        return cache[name]

    return get
