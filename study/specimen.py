"""Specimens: a case made of several fields of view (cytology slides).

A case's media cell may list several image files separated by ``;``, or name a
folder holding only image files: the case is then a *specimen* whose *fields*
are those files, in the order given (folder: sorted by name).  A field may also
be a tile region of a whole-slide image (``region`` = level-0 ``(x, y, w, h)``
in pixels; read by the whole-slide reader, ``None`` for a photo).

The model scores every field; the specimen's suspicion aggregates the field
scores (``aggregate``: "max", the default, as in the source cytology study where
a slide's class is its most severe field, or "mean").  All of this is plain data:
frozen dataclasses of str / float / tuples, no ORM rows, no tensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FIELD_SEPARATOR = ";"
AGGREGATES = ("max", "mean")
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})


@dataclass(frozen=True)
class Field:
    """One field of view: an image file, or a level-0 region (x, y, w, h) of a whole-slide image."""

    path: str
    region: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Specimen:
    """A case's fields in their stored order (``fields[0]`` is field 1 on screen)."""

    case_id: str
    role: str
    fields: tuple[Field, ...]

    def __len__(self) -> int:
        return len(self.fields)


@dataclass(frozen=True)
class FieldScore:
    """The AI's output for one field of a specimen.

    index: 0-based position of the field in the specimen's stored order.
    score: higher = more suspicious (same meaning as ``AIOutput.score``).
    probabilities: per-class probabilities in the order of the output's labels.
    """

    index: int
    score: float
    probabilities: tuple[float, ...] = ()
    predicted: str = ""


@dataclass(frozen=True)
class FieldView:
    """One opening of a field by the reviewer, for the store.

    seq: 1-based order of the opening within the read (the same field can be opened twice).
    field_index: 0-based stored position of the field.
    shown_ms: how long it was the field on screen (active time, pauses excluded).
    decisive: the field the reviewer marked as deciding the specimen's answer (one per read).
    ai_rank: the field's rank by AI score (1 = most suspicious), None when the AI is not shown.
    in_top_k: whether the field is among the AI's top-k picks, None when the AI is not shown.
    """

    seq: int
    field_index: int
    shown_ms: int
    decisive: bool = False
    ai_rank: int | None = None
    in_top_k: bool | None = None


def is_specimen_cell(cell: str) -> bool:
    """Whether a cases.csv media cell lists several fields (``a.png;b.png``)."""
    return FIELD_SEPARATOR in cell


def field_paths(path: str | Path) -> tuple[str, ...]:
    """The field files of one media cell (already resolved): several ``;``-separated paths,
    the image files of a folder that holds only images, or the path itself (one field).

    A folder with any non-image file (a DICOM series) is one medium, not a specimen."""
    text = str(path)
    if FIELD_SEPARATOR in text:
        return tuple(p.strip() for p in text.split(FIELD_SEPARATOR) if p.strip())
    p = Path(text)
    if p.is_dir():
        files = [f for f in sorted(p.iterdir()) if f.is_file() and not f.name.startswith(".")]
        if files and all(f.suffix.lower() in IMAGE_SUFFIXES for f in files):
            return tuple(str(f) for f in files)
    return (text,)


def specimen_of(case_id: str, role: str, cell: str | Path) -> Specimen:
    """The specimen a media cell stands for (a single image is a specimen of one field)."""
    return Specimen(case_id, role, tuple(Field(p) for p in field_paths(cell)))


def check_aggregate(name: str) -> str:
    """Return ``name`` if it is a known aggregation, else raise ValueError naming the choices."""
    if name not in AGGREGATES:
        raise ValueError(f"aggregate {name!r} is not one of {', '.join(AGGREGATES)}")
    return name


def aggregate_scores(scores: Sequence[float], how: str = "max") -> float:
    """The specimen score from its field scores: max (default) or mean.

    NaN field scores (a field the model could not read) are left out; all NaN
    gives NaN.  Raises ValueError for an unknown ``how`` or no fields."""
    check_aggregate(how)
    if not scores:
        raise ValueError("a specimen needs at least one field score")
    finite = [float(s) for s in scores if not math.isnan(s)]
    if not finite:
        return math.nan
    return max(finite) if how == "max" else sum(finite) / len(finite)


def aggregate_probabilities(fields: Sequence[FieldScore], how: str = "max") -> tuple[float, ...]:
    """Specimen class probabilities from its fields', labels ordered from least to most severe
    (normal, CIN1, CIN2+; binary: negative, positive).

    "max": a slide is its worst field, so the probability that the specimen is at least class
    c is the largest over fields of the field's probability of being at least c,
    ``P(>= c) = max_f sum_{j >= c} p_f(j)``; class probabilities are the differences of these
    (non-negative, summing to 1).  For the most severe class this is the maximum of the
    fields' probabilities.  "mean": the fields' probabilities averaged class by class."""
    check_aggregate(how)
    usable = [f for f in fields if f.probabilities and not math.isnan(f.score)]
    if not usable:
        return ()
    n = len(usable[0].probabilities)
    if how == "mean":
        return tuple(sum(f.probabilities[k] for f in usable) / len(usable) for k in range(n))
    at_least = [max(sum(f.probabilities[k:]) for f in usable) for k in range(n)]
    at_least[0] = 1.0
    return tuple(at_least[k] - (at_least[k + 1] if k + 1 < n else 0.0) for k in range(n))


def ranked(fields: Sequence[FieldScore]) -> tuple[FieldScore, ...]:
    """Fields from most to least suspicious; ties (and NaN, last) keep the stored order."""
    return tuple(
        sorted(fields, key=lambda f: (math.isnan(f.score), -f.score if not math.isnan(f.score) else 0.0, f.index))
    )


def top_k(fields: Sequence[FieldScore], k: int) -> frozenset[int]:
    """Stored indices of the AI's k picks (the k most suspicious fields)."""
    if k < 0:
        raise ValueError(f"top_k must be 0 or more, got {k}")
    return frozenset(f.index for f in ranked(fields)[:k] if not math.isnan(f.score))


def worst_class(labels: Sequence[str], field_classes: Sequence[str]) -> str:
    """A specimen's class from its fields' classes: the most severe one, severity being the
    order of ``labels`` (normal < CIN1 < CIN2+).  Raises ValueError for an unknown class."""
    if not field_classes:
        raise ValueError("a specimen needs at least one field")
    for c in field_classes:
        if c not in labels:
            raise ValueError(f"field class {c!r} is not one of {', '.join(labels)}")
    return max(field_classes, key=list(labels).index)
