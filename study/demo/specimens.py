"""Grouping the cytology demo's fields into specimens (slides), as in the source study.

In the source cervical cytology study 550 specimens gave 2,619 photographs at
10x: 2 to 5 fields of view per slide, and a slide's class is its most severe
field.  Here a specimen of class g gets 2-5 fields; one of them (at a random
place) is of grade g, the others are of grade g or lower, mostly normal, so the
specimen's class is exactly its worst field (``study.specimen.worst_class``).
Pure functions of a seeded generator; rendering the fields is not done here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_FIELDS, MAX_FIELDS = 2, 5
# Grade of the other fields of a specimen, given the specimen's grade (rows) over 0, 1, 2.
OTHER_FIELD_GRADES = np.array([[1.0, 0.0, 0.0], [0.65, 0.35, 0.0], [0.45, 0.25, 0.30]])


@dataclass(frozen=True)
class SpecimenPlan:
    grade: int  # the specimen's class index (its worst field)
    field_grades: tuple[int, ...]  # one per field, in the stored (shooting) order


def plan_specimen(rng: np.random.Generator, grade: int) -> SpecimenPlan:
    """2-5 fields whose worst grade is ``grade`` (0 normal, 1 CIN1, 2 CIN2+)."""
    if grade not in (0, 1, 2):
        raise ValueError(f"grade must be 0, 1 or 2, got {grade}")
    n = int(rng.integers(MIN_FIELDS, MAX_FIELDS + 1))
    others = rng.choice(3, size=n, p=OTHER_FIELD_GRADES[grade])
    others[int(rng.integers(n))] = grade
    return SpecimenPlan(grade, tuple(int(g) for g in others))


def plan_specimens(rng: np.random.Generator, grades: np.ndarray) -> list[SpecimenPlan]:
    """One plan per specimen class in ``grades``."""
    return [plan_specimen(rng, int(g)) for g in grades]
