"""Synthetic demo studies with known truth (public medical data cannot be shipped).

One module per study; each ``build_<name>(study_dir, seed, n=None) -> Path``
writes a complete study folder (study.toml, cases.csv, media, demo.json and
truth side files for training demo models).  ``build_all`` builds them all.

To train a demo model without testing it on its own training data, build a
training set with a different seed: the data are a pure function of the seed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from study.demo.common import DEFAULT_SEED, DEMO_PIN, DEMO_READERS, GENERATOR_VERSION

# name -> case count of the small (test) variant
STUDIES: dict[str, int] = {"mri": 12, "cytology": 12, "motility": 12, "conjunctiva": 12, "octa": 12}

__all__ = ["STUDIES", "DEFAULT_SEED", "DEMO_PIN", "DEMO_READERS", "GENERATOR_VERSION", "builder", "build_all"]


def builder(name: str) -> Callable[..., Path]:
    """The ``build_<name>`` function of one demo study."""
    if name not in STUDIES:
        raise KeyError(f"unknown demo study {name!r}; known: {', '.join(STUDIES)}")
    module = importlib.import_module(f"study.demo.{name}")
    return getattr(module, f"build_{name}")


def build_all(
    root: Path, seed: int = DEFAULT_SEED, small: bool = False, names: tuple[str, ...] | None = None
) -> dict[str, Path]:
    """Build every demo study (or ``names``) under root/<name>; return name -> folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return {
        name: builder(name)(root / name, seed, STUDIES[name] if small else None) for name in (names or tuple(STUDIES))
    }
