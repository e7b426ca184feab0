"""Planned against done reads per reader x session: whether a report is interim or complete.

Every report kind (binary, multiclass/numeric/grades, region) asks this one place, so a
study is called complete only when every enrolled reader has finished every session the
protocol plans for them.  A reader enrolled who never signed in has all sessions "not
started"; a session with some reads is "unfinished".  The counts are the engine's own
(``StudyEngine.sessions``: the admin's readers screen shows the same figures), where a
case the reader could not open (media unreadable, recorded in the audit log) counts as done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SessionProgress:
    """One reader's session: ``done`` of ``planned`` cases read (counts of cases)."""

    reader: str
    session: str
    done: int
    planned: int

    @property
    def label(self) -> str:
        return f"{self.reader} ({self.session})"


@dataclass(frozen=True)
class ReadingProgress:
    """Every enrolled reader's every planned session, in enrolment and session order."""

    sessions: tuple[SessionProgress, ...]

    @property
    def planned(self) -> int:
        return sum(s.planned for s in self.sessions)

    @property
    def done(self) -> int:
        return sum(min(s.done, s.planned) for s in self.sessions)

    @property
    def not_started(self) -> list[str]:
        return [s.label for s in self.sessions if s.done == 0 and s.planned > 0]

    @property
    def unfinished(self) -> list[str]:
        return [s.label for s in self.sessions if 0 < s.done < s.planned]

    @property
    def interim(self) -> bool:
        """True until every planned read is done; a study with no reader enrolled is interim too."""
        return not self.sessions or self.done < self.planned

    @property
    def percent(self) -> int:
        return 100 if not self.planned else self.done * 100 // self.planned

    def text(self) -> str:
        """ "12 of 144 planned reads (8 %)"."""
        return f"{self.done} of {self.planned} planned reads ({self.percent} %)"

    def as_dict(self) -> dict:
        """results.json's ``progress``: interim, planned, done, not_started, unfinished and the
        per reader x session counts."""
        return {
            "interim": self.interim,
            "planned": self.planned,
            "done": self.done,
            "not_started": self.not_started,
            "unfinished": self.unfinished,
            "sessions": [
                {"reader": s.reader, "session": s.session, "done": s.done, "planned": s.planned} for s in self.sessions
            ],
        }

    def notes(self) -> list[str]:
        """Plain sentences for a report's notes (empty when complete)."""
        if not self.interim:
            return []
        out = [f"Interim: {self.text()}."]
        if not self.sessions:
            out.append("Interim: no reader is enrolled.")
        if self.not_started:
            out.append("Interim: no reads yet for " + ", ".join(self.not_started) + ".")
        if self.unfinished:
            out.append("Interim: sessions part-read: " + ", ".join(self.unfinished) + ".")
        return out


def reading_progress(cells: Iterable[tuple[str, str, int, int]]) -> ReadingProgress:
    """``cells``: (reader, session name, cases done, cases planned) for every enrolled reader's every
    planned session (a reader who never signed in still has their sessions, with 0 done).
    Raises ValueError for a negative count."""
    sessions = []
    for reader, session, done, planned in cells:
        if done < 0 or planned < 0:
            raise ValueError(f"reading progress of {reader} ({session}): negative count {done} of {planned}")
        sessions.append(SessionProgress(str(reader), str(session), int(done), int(planned)))
    return ReadingProgress(tuple(sessions))


def study_progress(study_dir: str | Path, url: str | None = None) -> ReadingProgress:
    """The stored study's progress: its enrolled readers x the sessions its protocol plans
    (``study.engine.session_plan``), counted as the readers screen counts them."""
    from study.engine import StudyEngine  # lazy: the engine pulls in the store (SQLAlchemy)

    engine = StudyEngine.open(study_dir, url)
    try:
        return reading_progress(
            (r.code, info.name, info.done, info.total)
            for r in engine.store.readers()
            for info in engine.sessions(r.code)
        )
    finally:
        engine.close()
