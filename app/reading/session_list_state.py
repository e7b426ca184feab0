"""The reader's sessions with their availability, in words (no Qt)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from study.engine import AIReadiness, SessionInfo


@dataclass(frozen=True)
class SessionRow:
    index: int
    title: str  # "Session 1 - unaided"
    status: str  # "not started" / "in progress 3/10" / "done 10/10" / "opens on ..."
    can_start: bool
    action: str  # "Start" / "Resume" / "" (done or locked)


def washout_text(opens_at: datetime, now: datetime) -> str:
    """'opens on 2026-12-21, in 28 days' (days rounded up: 1 h left is 'in 1 day')."""
    seconds = (opens_at - now).total_seconds()
    date = opens_at.astimezone().date().isoformat()
    if seconds <= 0:
        return f"opens on {date}"
    days = int(-(-seconds // 86400))
    if seconds < 86400:
        hours = int(-(-seconds // 3600))
        when = f"in {hours} hour{'s' if hours != 1 else ''}"
    else:
        when = f"in {days} day{'s' if days != 1 else ''}"
    return f"opens on {date}, {when}"


def ai_wait_text(ai: AIReadiness) -> str:
    """Why an aided session waits: 'AI outputs being computed: 40 % (48 of 120 cases)', or
    'needs the AI's outputs: no model attached (Study administration → Model)'."""
    return ai.closed_reason or ""


def session_row(info: SessionInfo, now: datetime, washout_days: int = 0, ai: AIReadiness | None = None) -> SessionRow:
    # crossover sessions are named "session 1"/"session 2"; the others by their mode
    crossover = info.name.startswith("session")
    title = info.name.capitalize() if crossover else f"Session {info.index} \u2013 {info.name}"
    if info.state == "locked":
        if info.opens_at is not None:
            status = washout_text(info.opens_at, now)
        elif info.washout_waived:
            status = f"opens when session {info.index - 1} is done (washout waived)"
        elif washout_days:
            status = f"opens {washout_days} days after session {info.index - 1} is done"
        else:
            status = f"opens when session {info.index - 1} is done"
        return SessionRow(info.index, title, status, False, "")
    if info.state == "done":
        return SessionRow(info.index, title, f"done \u00b7 {info.done}/{info.total}", False, "")
    if info.has_aided and ai is not None and not ai.ready:
        # An aided read without the AI output would be an unaided read recorded as aided
        # (the engine's start() refuses it too).
        return SessionRow(info.index, title, ai_wait_text(ai), False, "")
    if info.state == "in progress":
        return SessionRow(info.index, title, f"in progress \u00b7 {info.done}/{info.total}", True, "Resume")
    return SessionRow(info.index, title, f"not started \u00b7 {info.total} cases", True, "Start")


class SessionListState:
    def __init__(self, engine, reader: str, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.reader = reader
        self._now = now
        self.rows: list[SessionRow] = []
        self.message = ""
        # A session left open on a workstation that stopped (crash): offered for take-over.
        self.stale_session: int | None = None
        self.waiting_for_ai = False  # some session waits for AI outputs being computed: the screen polls

    def refresh(self) -> list[SessionRow]:
        now = self._now()
        washout = self.engine.protocol.washout_days
        infos = self.engine.sessions(self.reader)
        ai = self.engine.ai_readiness() if any(i.has_aided and i.state != "done" for i in infos) else None
        self.rows = [session_row(info, now, washout, ai) for info in infos]
        # Polled only while outputs are being computed; a missing model is the admin's to attach.
        self.waiting_for_ai = ai is not None and ai.computing
        return self.rows
