"""What the reader has answered so far for one case, per task kind (no Qt).

Each answer state takes keyboard input as key names ("1".."9", "up", "down",
"left", "right") so the mapping of keys to answers is tested without widgets.
``complete`` says whether Enter may submit; ``problem`` says why not, in words
fit for the reader.  ``fields()`` gives the answer part of a ReadSubmission.
``draft()`` is what the reader has entered so far, partial or not (kept with a
sitting left unanswered), and ``restore(draft)`` puts it back on their return.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from study.protocol import Task


@dataclass(frozen=True)
class AnswerFields:
    answer: str
    confidence: float | None = None
    distribution: tuple[float, ...] | None = None
    value: float | None = None


class AnswerState:
    """Base: counts answer changes (a different answer after the first one)."""

    def __init__(self) -> None:
        self.changes = 0
        self._last_answer: str | None = None

    def _note_answer(self, answer: str | None) -> None:
        if answer is None:
            return
        if self._last_answer is not None and answer != self._last_answer:
            self.changes += 1
        self._last_answer = answer

    def key(self, name: str) -> bool:
        """Apply one key; True when it changed something."""
        return False

    @property
    def problem(self) -> str:
        raise NotImplementedError

    @property
    def complete(self) -> bool:
        return not self.problem

    def fields(self) -> AnswerFields:
        raise NotImplementedError

    def draft(self) -> dict | None:
        """The reader's input so far as JSON-able values; None when nothing is entered."""
        return None

    def restore(self, draft: dict) -> None:
        """Put back a ``draft()`` (an unknown or malformed value is left out, never guessed)."""


def _index(value: object, count: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count else None


def _digit(name: str, count: int) -> int | None:
    """0-based index for digit keys "1".."count", else None."""
    if len(name) == 1 and name.isdigit() and 1 <= int(name) <= count:
        return int(name) - 1
    return None


class BinaryAnswer(AnswerState):
    """A label (negative/positive) plus a confidence on 0-100 or 1-5.

    Both are required: a default confidence would put a bias into every ROC
    curve made from the reads.  Keys: 1/2 or left/right pick the label,
    up/down move the confidence.  A new case starts with no rating (no thumb on
    the slider, nothing carried over from the last case); the first up/down
    press moves one step from the neutral midpoint in the direction pressed
    (0-100: up gives 55, down 45; 1-5: up 4, down 2), so the first key is a
    lean, never a jump to an anchored value.
    """

    def __init__(self, labels: tuple[str, ...], scale: tuple[int, int]) -> None:
        super().__init__()
        self.labels = labels
        self.scale = scale
        self.label_index: int | None = None
        self.confidence: int | None = None

    @property
    def step(self) -> int:
        return 5 if self.scale[1] - self.scale[0] > 10 else 1

    def select(self, index: int) -> None:
        self.label_index = index
        self._note_answer(str(index))

    def set_confidence(self, value: int) -> None:
        lo, hi = self.scale
        self.confidence = min(hi, max(lo, int(value)))

    def step_confidence(self, direction: int) -> None:
        lo, hi = self.scale
        start = (lo + hi) / 2 if self.confidence is None else self.confidence  # neutral when unset
        self.set_confidence(round(start + direction * self.step))

    def key(self, name: str) -> bool:
        index = _digit(name, 2)
        if index is not None:
            self.select(index)
        elif name in ("left", "right"):
            self.select(0 if name == "left" else 1)
        elif name in ("up", "down"):
            self.step_confidence(1 if name == "up" else -1)
        else:
            return False
        return True

    @property
    def problem(self) -> str:
        if self.label_index is None:
            return "Choose an answer (1 or 2)."
        if self.confidence is None:
            return "Set the likelihood (\u2191 \u2193, or click on the scale)."
        return ""

    def fields(self) -> AnswerFields:
        return AnswerFields(str(self.label_index), confidence=float(self.confidence))

    def draft(self) -> dict | None:
        if self.label_index is None and self.confidence is None:
            return None
        return {"label": self.label_index, "confidence": self.confidence}

    def restore(self, draft: dict) -> None:
        label = _index(draft.get("label"), len(self.labels))
        if label is not None:
            self.select(label)
        confidence = draft.get("confidence")
        if isinstance(confidence, int) and not isinstance(confidence, bool):
            self.set_confidence(confidence)


class MulticlassAnswer(AnswerState):
    """One label of several.  Keys: digits pick, up/down move the choice."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        super().__init__()
        self.labels = labels
        self.index: int | None = None

    def select(self, index: int) -> None:
        self.index = index
        self._note_answer(self.labels[index])

    def key(self, name: str) -> bool:
        index = _digit(name, len(self.labels))
        if index is None and name in ("up", "down"):
            if self.index is None:
                index = 0
            else:
                index = max(0, min(len(self.labels) - 1, self.index + (1 if name == "down" else -1)))
        if index is None:
            return False
        self.select(index)
        return True

    @property
    def problem(self) -> str:
        return "" if self.index is not None else f"Choose an answer (1-{len(self.labels)})."

    def fields(self) -> AnswerFields:
        return AnswerFields(self.labels[self.index])

    def draft(self) -> dict | None:
        return None if self.index is None else {"index": self.index}

    def restore(self, draft: dict) -> None:
        index = _index(draft.get("index"), len(self.labels))
        if index is not None:
            self.select(index)


class GradeAnswer(AnswerState):
    """The reader's single grade, or a split of 100 % over the grades.

    Keys: digits or left/right pick a single grade (and leave split mode).  In
    split mode the shares are percentages that must add up to 100; the answer
    is the grade with the largest share (the first one on ties).
    """

    def __init__(self, grades: tuple[str, ...]) -> None:
        super().__init__()
        self.grades = grades
        self.split_mode = False
        self.index: int | None = None
        self.shares: list[int] = [0] * len(grades)

    def select(self, index: int) -> None:
        self.split_mode = False
        self.index = index
        self._note_answer(self.grades[index])

    def set_split_mode(self, on: bool) -> None:
        self.split_mode = on
        if on and not any(self.shares) and self.index is not None:
            self.shares = [100 if i == self.index else 0 for i in range(len(self.grades))]
        self._note_answer(self._top())

    def set_share(self, index: int, percent: int) -> None:
        self.shares[index] = max(0, min(100, int(percent)))
        if not self.problem:
            self._note_answer(self._top())

    def _top(self) -> str | None:
        if self.split_mode:
            if sum(self.shares) != 100:
                return None
            return self.grades[max(range(len(self.shares)), key=lambda i: (self.shares[i], -i))]
        return None if self.index is None else self.grades[self.index]

    def key(self, name: str) -> bool:
        index = _digit(name, len(self.grades))
        if index is None and name in ("left", "right"):
            step = 1 if name == "right" else -1
            index = 0 if self.index is None else max(0, min(len(self.grades) - 1, self.index + step))
        if index is None:
            return False
        self.select(index)
        return True

    @property
    def problem(self) -> str:
        if self.split_mode:
            total = sum(self.shares)
            if total == 100:
                return ""
            more = f"place {100 - total} % more" if total < 100 else f"{total - 100} % too much"
            return f"The shares add up to {total} %: {more}."
        return "" if self.index is not None else f"Choose a grade (1-{len(self.grades)})."

    def fields(self) -> AnswerFields:
        if self.split_mode:
            dist = tuple(s / 100 for s in self.shares)
        else:
            dist = tuple(1.0 if i == self.index else 0.0 for i in range(len(self.grades)))
        return AnswerFields(self._top() or "", distribution=dist)

    def draft(self) -> dict | None:
        if self.index is None and not self.split_mode and not any(self.shares):
            return None
        return {"index": self.index, "split": self.split_mode, "shares": list(self.shares)}

    def restore(self, draft: dict) -> None:
        index = _index(draft.get("index"), len(self.grades))
        if index is not None:
            self.select(index)
        shares = draft.get("shares")
        if isinstance(shares, list) and len(shares) == len(self.grades):
            for i, share in enumerate(shares):
                if isinstance(share, int) and not isinstance(share, bool):
                    self.shares[i] = max(0, min(100, share))
        if draft.get("split") is True:
            self.set_split_mode(True)


class NumericAnswer(AnswerState):
    """A number typed by the reader, checked against the protocol's range.

    Keys: up/down step a value the reader has typed (0.1 for a range of
    3-20 g/dL).  There is no neutral number to start from (the range's lower
    end, or its middle, would be an anchor), so on an empty field the arrows
    do nothing and the reader is asked to type a value first.
    """

    def __init__(self, unit: str, lo: float | None, hi: float | None) -> None:
        super().__init__()
        self.unit, self.lo, self.hi = unit, lo, hi
        self.text = ""
        span = (hi - lo) if lo is not None and hi is not None else 100.0
        self.step = 10.0 ** math.floor(math.log10(span / 100)) if span > 0 else 1.0
        self.decimals = max(0, -int(math.floor(math.log10(self.step))))

    @property
    def value(self) -> float | None:
        try:
            v = float(self.text.strip().replace(",", "."))
        except ValueError:
            return None
        return v if math.isfinite(v) else None

    def set_text(self, text: str) -> None:
        self.text = text

    def key(self, name: str) -> bool:
        if name not in ("up", "down"):
            return False
        v = self.value
        if v is None:
            return False  # nothing typed (or not a number): no value is invented
        v += self.step if name == "up" else -self.step
        if self.lo is not None:
            v = max(self.lo, v)
        if self.hi is not None:
            v = min(self.hi, v)
        self.text = f"{v:.{self.decimals}f}"
        return True

    @property
    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.lo is not None and self.hi is not None:
            return f"{self.lo:g}-{self.hi:g}{unit}"
        if self.lo is not None:
            return f">= {self.lo:g}{unit}"
        if self.hi is not None:
            return f"<= {self.hi:g}{unit}"
        return ""

    @property
    def problem(self) -> str:
        if not self.text.strip():
            return "Type a value (\u2191 \u2193 then adjust it)."
        v = self.value
        if v is None:
            return "Not a number."
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            return f"Outside the range {self.range_text}."
        return ""

    def fields(self) -> AnswerFields:
        v = self.value
        self._note_answer(repr(v))
        return AnswerFields(str(v), value=v)

    def draft(self) -> dict | None:
        return {"text": self.text} if self.text.strip() else None

    def restore(self, draft: dict) -> None:
        text = draft.get("text")
        if isinstance(text, str) and len(text) <= 64:
            self.set_text(text)


def answer_for(task: Task, clock: Callable[[], float] = time.monotonic) -> AnswerState:
    """A fresh, empty answer for the protocol's task (``clock`` times a region's edits)."""
    if task.kind == "region":
        from app.reading.region_answer import RegionAnswer

        return RegionAnswer(task, clock)
    if task.kind == "binary":
        return BinaryAnswer(task.labels, task.confidence_range)
    if task.kind == "multiclass":
        return MulticlassAnswer(task.labels)
    if task.kind == "grade_distribution":
        return GradeAnswer(task.grades)
    if task.kind == "numeric":
        return NumericAnswer(task.unit, task.min, task.max)
    raise ValueError(f"unknown task kind {task.kind!r}")
