"""The session engine: who may read what, in which order, and the commit of every read.

Rules (DESIGN.md, "Session engine"):
- sequential: session 1 unaided, session 2 aided; session 2 opens when the
  washout has elapsed since this reader finished session 1 (or an admin
  override, with a reason, is in the audit log);
- crossover: two sessions, each case once per mode; the study's cases are
  split into two blocks (stratified by truth) and the block read unaided first
  alternates between readers in enrolment order, balancing mode order;
- concurrent: one aided session.
A reader's order is seeded from (study seed, reader, session) and differs
between sessions.  Each submit is its own transaction, checked against the
reader's lease, and appended to the audit chain before it returns.
"""

from __future__ import annotations

import getpass
import json
import math
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from study import truthseal
from study.aioutput import AIOutput
from study.cases import Case, load_cases
from study.consistency import CONTRADICTORY, binary_consistency
from study.errors import StudyError
from study.order import case_order, crossover_blocks
from study.protocol import Protocol, load_protocol
from study.region import Region, encode_mask
from study.security import code_problem, secret_problem, verify_secret
from study.specimen import FieldView
from study.store import Store, audit
from study.store.schema import (
    AIOutputRow,
    AuditRow,
    FieldViewRow,
    LeaseRow,
    Meta,
    ReaderRow,
    ReadRow,
    SittingRow,
    WashoutOverrideRow,
)

LEASE_SECONDS = 120
MAX_PIN_TRIES = 3
LOCKOUT = timedelta(seconds=60)
# An unsubmitted answer kept with a sitting: a few numbers and a label, or a region's mask (a
# 1-bit PNG in base64: a few kB for a 1024 x 1024 outline, more for a series' slices).
DRAFT_MAX_CHARS = 2_000_000


class LoginError(StudyError):
    """A refused login; ``locked_s``: seconds the reader code stays locked (None: not locked)."""

    def __init__(self, message: str, locked_s: int | None = None) -> None:
        super().__init__([message])
        self.locked_s = locked_s


class SessionLocked(StudyError):
    def __init__(self, message: str) -> None:
        super().__init__([message])


class LeaseHeld(StudyError):
    def __init__(self, message: str) -> None:
        super().__init__([message])


class LeaseStale(LeaseHeld):
    """The session was left open on another workstation that stopped sending heartbeats
    (crash, power cut).  It may be taken over, after the reader confirms (``take_over=True``)."""

    def __init__(self, workstation: str, last_seen: datetime) -> None:
        self.workstation, self.last_seen = workstation, last_seen
        super().__init__(
            f"This session was left open on workstation {workstation!r}, last seen "
            f"{last_seen:%Y-%m-%d %H:%M} UTC. Take it over only if nobody is reading there."
        )


@dataclass(frozen=True)
class LeaseHolder:
    """The window holding a reader's session: its workstation (``user@host``), when it opened
    the session (None for a lease taken before that was kept) and its last heartbeat (UTC)."""

    workstation: str
    opened_at: datetime | None
    last_heartbeat: datetime


def _at(at: datetime | None) -> str:
    return "at an unknown time" if at is None else f"{at:%Y-%m-%d %H:%M:%S} UTC"


class OpenInAnotherWindow(LeaseHeld):
    """The session is open, and alive (heartbeats), in another window of this workstation.

    Raised before anything is written; ``take_over=True`` (after the reader chose to)
    moves it here and stops the other window (audited as ``lease.taken_over``)."""

    def __init__(self, holder: LeaseHolder) -> None:
        self.holder = holder
        super().__init__(
            f"This session is open in another window on this workstation ({holder.workstation}), "
            f"opened {_at(holder.opened_at)}, last heartbeat {_at(holder.last_heartbeat)}."
        )


class SessionMoved(LeaseHeld):
    """This window no longer holds its session: another window took it over (and may have
    closed it since).  Nothing more is written from this window; ``holder`` is the window
    holding the session now (None: nobody)."""

    def __init__(self, holder: LeaseHolder | None) -> None:
        self.holder = holder
        if holder is None:
            where = "was taken over by another window, which has closed it since"
        else:
            since = "" if holder.opened_at is None else f", since {_at(holder.opened_at)}"
            where = f"was taken over by another window (workstation {holder.workstation!r}{since})"
        super().__init__(f"This session {where}. This window stopped: nothing more is saved from it.")


def _holder(lease: LeaseRow) -> LeaseHolder:
    return LeaseHolder(lease.workstation, lease.opened_at, lease.heartbeat_at)


def workstation_id() -> str:
    """This workstation: OS user and machine, ``user@host``.  The same user on the same
    machine resumes its own session at once after a crash; anyone else must take over."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers): the uid still tells users apart
        import os

        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "user"
    return f"{user}@{socket.gethostname()}"[:128]


@dataclass(frozen=True)
class SessionInfo:
    index: int
    name: str
    state: str  # "locked" | "not started" | "in progress" | "done"
    done: int
    total: int
    opens_at: datetime | None = None
    completed_at: datetime | None = None
    washout_waived: bool = False  # an admin override (audited) opens it as soon as the previous one is done
    has_aided: bool = False  # some of its cases are read with the AI (they wait for AI outputs)


# Why an aided session cannot open while the protocol names no model (session list, status, start()).
NO_MODEL = "needs the AI's outputs: no model attached (Study administration \u2192 Model)"
# The cause recorded when an aided case is skipped because the AI has no output for it.
NO_AI_OUTPUT = "no AI output for this case (the model could not read it): it is not read aided"


@dataclass(frozen=True)
class AIReadiness:
    """How far the study's AI outputs are: aided reads wait until every case has one.

    ``expected`` is False when the protocol names no model: aided reads then stay
    closed (an aided read without the AI would be an unaided read recorded as aided).
    ``failed`` counts cases the last finished precompute run could not read: they
    are skipped in the aided read (recorded as unavailable) rather than waited for
    forever, and never read "aided" without an output.
    """

    stored: int
    failed: int
    total: int
    expected: bool

    @property
    def ready(self) -> bool:
        """Aided reads may open: a model is attached and every case has an output or a recorded failure."""
        return self.closed_reason is None

    @property
    def computing(self) -> bool:
        """A model is attached and some cases have neither an output nor a recorded failure yet."""
        return self.expected and self.stored + self.failed < self.total

    @property
    def percent(self) -> int:
        """Whole percent of cases with an output (or a recorded failure), rounded down."""
        return 100 if not self.total else min(100, (self.stored + self.failed) * 100 // self.total)

    @property
    def closed_reason(self) -> str | None:
        """Why aided reads cannot open, in the clinic's words; None when they can."""
        if not self.expected:
            return NO_MODEL
        if self.computing:
            return f"AI outputs being computed: {self.percent} % ({self.stored + self.failed} of {self.total} cases)"
        if self.total and not self.stored:
            return "needs the AI's outputs: the model could not read any case (Study administration \u2192 Model)"
        return None


@dataclass(frozen=True)
class CaseItem:
    case_id: str  # internal: pass back to submit, never display
    position: int
    total: int
    mode: str  # "unaided" | "aided"
    media: Mapping[str, str]


@dataclass(frozen=True)
class Sitting:
    """One stretch of time a case was on screen; ``outcome`` "left" or "submitted".

    active_ms: milliseconds the case clock ran (paused time excluded).
    read_id: the read this sitting counts towards (None while the case is unanswered).
    """

    reader: str
    session: int
    case_id: str
    mode: str
    started_at: datetime
    ended_at: datetime
    active_ms: int
    outcome: str
    read_id: int | None
    ai_shown_ms: int = 0
    cam_shown_ms: int = 0
    workstation: str = ""


@dataclass(frozen=True)
class ReadSubmission:
    case_id: str
    answer: str
    displayed_at: datetime
    submitted_at: datetime
    active_ms: int
    confidence: float | None = None
    distribution: tuple[float, ...] | None = None
    value: float | None = None
    ai_shown_ms: int = 0
    cam_shown: bool = False
    cam_shown_ms: int = 0
    answer_changes: int = 0
    # region tasks: the drawn region, whether the AI's contour went in unchanged (aided reads;
    # None unaided), ms from the first to the last edit of the region, and the number of edits.
    region: Region | None = None
    accepted_unchanged: bool | None = None
    edit_ms: int = 0
    edit_count: int = 0
    # A specimen's gallery: every field opened, in order (study.specimen.FieldView); () otherwise.
    field_views: tuple[FieldView, ...] = ()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def session_title(info: SessionInfo) -> str:
    """'Session 2 (aided)'; crossover sessions are named 'session 1' / 'session 2'."""
    return info.name.capitalize() if info.name.startswith("session") else f"Session {info.index} ({info.name})"


def session_plan(
    protocol: Protocol, cases: tuple[Case, ...], reader_rank: int
) -> list[tuple[int, str, dict[str, str]]]:
    """(index, name, case_id -> mode) for each session of one reader."""
    ids = [c.case_id for c in cases]
    if protocol.design == "concurrent":
        return [(1, "aided", dict.fromkeys(ids, "aided"))]
    if protocol.design == "sequential":
        return [(1, "unaided", dict.fromkeys(ids, "unaided")), (2, "aided", dict.fromkeys(ids, "aided"))]
    block_a, _ = crossover_blocks(ids, [c.truth for c in cases], protocol.seed)
    first_unaided = block_a if reader_rank % 2 == 0 else set(ids) - block_a
    s1 = {cid: ("unaided" if cid in first_unaided else "aided") for cid in ids}
    s2 = {cid: ("aided" if mode == "unaided" else "unaided") for cid, mode in s1.items()}
    return [(1, "session 1", s1), (2, "session 2", s2)]


def _check_field_views(read: ReadSubmission) -> None:
    """A gallery log is in order, with non-negative times and at most one decisive field."""
    problems = []
    views = read.field_views
    if [v.seq for v in views] != list(range(1, len(views) + 1)):
        problems.append(f"field views of case {read.case_id}: seq must run 1..{len(views)}")
    if any(v.field_index < 0 or v.shown_ms < 0 for v in views):
        problems.append(f"field views of case {read.case_id}: negative field index or time")
    if sum(1 for v in views if v.decisive) > 1:
        problems.append(f"field views of case {read.case_id}: more than one decisive field")
    if problems:
        raise StudyError(problems)


def _check_answer(protocol: Protocol, read: ReadSubmission) -> None:
    task, problems = protocol.task, []
    if task.kind == "binary":
        if read.answer not in ("0", "1"):
            problems.append(f"answer {read.answer!r} must be '0' or '1'")
        lo, hi = task.confidence_range
        if read.confidence is not None and not lo <= read.confidence <= hi:
            problems.append(f"confidence {read.confidence} is outside {lo}..{hi}")
    elif task.kind == "multiclass":
        if read.answer not in task.labels:
            problems.append(f"answer {read.answer!r} is not one of {', '.join(task.labels)}")
    elif task.kind == "grade_distribution":
        if read.answer not in task.grades:
            problems.append(f"answer {read.answer!r} is not one of {', '.join(task.grades)}")
        d = read.distribution
        if d is not None and (len(d) != len(task.grades) or any(p < 0 for p in d) or abs(sum(d) - 1) > 1e-6):
            problems.append("distribution must have one value >= 0 per grade and sum to 1")
    elif task.kind == "region":
        if read.region is None:
            problems.append("a region answer needs a region (a mask)")
        elif not read.region.mask.any():
            problems.append(f"the {task.region} region is empty: draw it before submitting")
        if task.also == "binary":
            if read.answer not in ("0", "1"):
                problems.append(f"answer {read.answer!r} must be '0' or '1'")
            lo, hi = task.confidence_range
            if read.confidence is None or not lo <= read.confidence <= hi:
                problems.append(f"likelihood {read.confidence} is outside {lo}..{hi}")
        if read.edit_ms < 0 or read.edit_count < 0:
            problems.append("edit time and edit count must be 0 or more")
    else:
        v = read.value
        if v is None or not math.isfinite(v):
            problems.append("a numeric answer needs a value")
        elif task.min is not None and v < task.min or task.max is not None and v > task.max:
            problems.append(f"value {v} is outside {task.min}..{task.max} {task.unit}".rstrip())
    if read.active_ms < 0 or read.submitted_at < read.displayed_at:
        problems.append("timing is inconsistent (submitted before displayed, or negative active time)")
    if problems:
        raise StudyError([f"read of case {read.case_id}: {p}" for p in problems])


def read_consistency(protocol: Protocol, read: ReadSubmission) -> str | None:
    """The category-vs-rating check of a binary read (study.consistency), enforced here so
    no screen can skip it: None for other tasks; StudyError when the protocol blocks."""
    task = protocol.task
    if task.kind != "binary":
        return None
    outcome = binary_consistency(int(read.answer), read.confidence, task.confidence_range)
    if outcome == CONTRADICTORY and task.consistency == "block":
        raise StudyError(
            [
                f"read of case {read.case_id}: the answer {task.labels[int(read.answer)]!r} contradicts "
                f'the likelihood {read.confidence:g} (study.toml: task.consistency = "block")'
            ]
        )
    return outcome


def _region_columns(read: ReadSubmission, mode: str) -> dict:
    """The reads columns of a region answer (all None for other tasks)."""
    if read.region is None:
        return {}
    spacing = read.region.spacing_mm
    return {
        "region_mask": encode_mask(read.region.mask),
        "region_spacing": None if spacing is None else json.dumps([float(spacing[0]), float(spacing[1])]),
        "accepted_unchanged": bool(read.accepted_unchanged)
        if mode == "aided" and read.accepted_unchanged is not None
        else None,
        "edit_ms": int(read.edit_ms),
        "edit_count": int(read.edit_count),
    }


class StudyEngine:
    def __init__(
        self, study_dir: Path, protocol: Protocol, cases: tuple[Case, ...], store: Store, clock: Callable[[], datetime]
    ) -> None:
        self.study_dir, self.protocol, self.cases, self.store, self.clock = study_dir, protocol, cases, store, clock
        self._case_by_id = {c.case_id: c for c in cases}
        # The truth against its seal at open (study.truthseal); results refuse it while it differs.
        self.truth: truthseal.TruthState | None = None

    @classmethod
    def open(
        cls,
        study_dir: str | Path,
        db_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
        check_media: bool = False,
    ) -> StudyEngine:
        study_dir = Path(study_dir).resolve()
        protocol = load_protocol(study_dir)
        # Missing media marks a case unavailable at read time; it must not stop the study opening.
        cases = load_cases(study_dir, protocol, check_media=check_media)
        store = Store.open(study_dir, db_url)
        case_ids = json.dumps(sorted(c.case_id for c in cases))
        try:
            _follow_cases_before_any_read(store, case_ids)
        except BaseException:
            store.close()
            raise
        changed = store.check_meta(
            {
                "study_id": protocol.study_id,
                "seed": str(protocol.seed),
                "design": protocol.design,
                "case_ids": case_ids,
            }
        )
        if changed:
            store.close()
            raise StudyError(
                [
                    f"{protocol.source}: the study changed since it started ({c}); restore it or start a new study"
                    for c in changed
                ]
            )
        try:  # the truth is sealed at first open (re-sealed while no case was opened); see study.truthseal
            truth = truthseal.check(store, study_dir, cases)
        except BaseException:
            store.close()
            raise
        engine = cls(study_dir, protocol, cases, store, clock or _utcnow)
        engine.truth = truth
        return engine

    def close(self) -> None:
        self.store.close()

    # -- readers ----------------------------------------------------------
    def _reader(self, s, code: str) -> ReaderRow:
        row = s.execute(select(ReaderRow).where(ReaderRow.code == code)).scalar_one_or_none()
        if row is None:
            raise StudyError([f"no reader {code!r} in this study"])
        return row

    def _rank(self, s, reader: ReaderRow) -> int:
        return s.execute(select(func.count()).select_from(ReaderRow).where(ReaderRow.id < reader.id)).scalar_one()

    def login(self, code: str, pin: str) -> str:
        """Check a reader's PIN; three wrong PINs lock the code for a minute."""
        problem = code_problem(code.strip()) or secret_problem(pin)
        if problem:
            raise LoginError(problem[0].upper() + problem[1:] + ".")
        now = self.clock()
        with self.store.transaction() as s:
            # FOR UPDATE: parallel wrong PINs on PostgreSQL wait for each other, so every one is counted.
            row = s.execute(
                select(ReaderRow).where(ReaderRow.code == code.strip()).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise LoginError("Unknown reader code or wrong PIN.")
            if row.locked_until is not None and row.locked_until > now:
                wait = math.ceil((row.locked_until - now).total_seconds())
                raise LoginError(f"Too many wrong PINs. Try again in {wait} s.", wait)
            if verify_secret(pin, row.pin_hash):
                row.failed_pins, row.locked_until = 0, None
                audit.append(s, now, row.code, "reader.login", {})
                return row.code
            row.failed_pins += 1
            locked = row.failed_pins >= MAX_PIN_TRIES
            if locked:
                row.failed_pins, row.locked_until = 0, now + LOCKOUT
                audit.append(s, now, row.code, "reader.locked", {"seconds": LOCKOUT.total_seconds()})
        if locked:  # raised after the commit: the lock must be stored
            wait = math.ceil(LOCKOUT.total_seconds())
            raise LoginError(
                f"Unknown reader code or wrong PIN. Too many wrong PINs: this code is locked for {wait} s.", wait
            )
        raise LoginError("Unknown reader code or wrong PIN.")

    # -- sessions ---------------------------------------------------------
    def _plan(self, s, reader: ReaderRow) -> list[tuple[int, str, dict[str, str]]]:
        return session_plan(self.protocol, self.cases, self._rank(s, reader))

    @staticmethod
    def _answered(s, reader_id: int, index: int) -> dict[str, datetime]:
        rows = s.execute(
            select(ReadRow.case_id, func.max(ReadRow.submitted_at))
            .where(ReadRow.reader_id == reader_id, ReadRow.session_index == index)
            .group_by(ReadRow.case_id)
        ).all()
        return {cid: at for cid, at in rows}

    @staticmethod
    def _unavailable(s, reader: str, index: int) -> set[str]:
        """Cases this reader could not read in this session (media unreadable), from the audit log."""
        rows = s.execute(
            select(AuditRow.payload).where(AuditRow.action == "case.unavailable", AuditRow.actor == reader)
        ).scalars()
        return {p["case"] for p in map(json.loads, rows) if p.get("session") == index}

    @staticmethod
    def _has_sittings(s, reader_id: int, index: int) -> bool:
        return (
            s.execute(
                select(SittingRow.id).where(SittingRow.reader_id == reader_id, SittingRow.session_index == index)
            ).first()
            is not None
        )

    def sessions(self, reader: str) -> list[SessionInfo]:
        now = self.clock()
        with self.store.Session() as s:
            row = self._reader(s, reader)
            infos: list[SessionInfo] = []
            for index, name, modes in self._plan(s, row):
                answered = self._answered(s, row.id, index)
                skipped = self._unavailable(s, reader, index) - set(answered)
                done, total = len((set(answered) | skipped) & set(modes)), len(modes)
                completed = (max(answered.values()) if answered else self.clock()) if done == total else None
                opens_at = None
                locked = overridden = False
                if index > 1:
                    prev = infos[-1]
                    overridden = (
                        s.execute(
                            select(WashoutOverrideRow.id).where(
                                WashoutOverrideRow.reader_id == row.id, WashoutOverrideRow.session_index == index
                            )
                        ).first()
                        is not None
                    )
                    if prev.state != "done":
                        locked = True
                    else:
                        opens_at = prev.completed_at + timedelta(days=self.protocol.washout_days)
                        locked = opens_at > now and not overridden and done == 0
                if locked:
                    state = "locked"
                else:
                    # A case opened and left (a sitting without a read) has started the session too.
                    started = done > 0 or self._has_sittings(s, row.id, index)
                    state = "done" if done == total else ("in progress" if started else "not started")
                infos.append(
                    SessionInfo(
                        index,
                        name,
                        state,
                        done,
                        total,
                        opens_at if locked else None,
                        completed,
                        washout_waived=overridden,
                        has_aided="aided" in modes.values(),
                    )
                )
            return infos

    def ai_readiness(self) -> AIReadiness:
        """Cases with a stored AI output, against the study's cases (see :class:`AIReadiness`).

        A precompute run that finishes appends an ``ai.precompute`` audit row naming
        the cases it could not read; those count as settled.
        """
        expected = bool(self.model_spec())
        case_ids = {c.case_id for c in self.cases}
        if not expected:
            return AIReadiness(0, 0, len(case_ids), False)
        with self.store.Session() as s:
            stored = set(s.execute(select(AIOutputRow.case_id).distinct()).scalars()) & case_ids
            last = s.execute(
                select(AuditRow.payload).where(AuditRow.action == "ai.precompute").order_by(AuditRow.id.desc()).limit(1)
            ).scalar()
        failed = (set(json.loads(last).get("failed", [])) & (case_ids - stored)) if last else set()
        return AIReadiness(len(stored), len(failed), len(case_ids), True)

    def cases_with_ai_output(self) -> set[str]:
        """Case ids with a stored AI output (of any model)."""
        with self.store.Session() as s:
            return set(s.execute(select(AIOutputRow.case_id).distinct()).scalars())

    def model_spec(self) -> str | None:
        """The model study.toml names now: a model attached (admin screen) after this engine
        opened counts at once, in this process and in others."""
        try:
            return load_protocol(self.study_dir).model_spec
        except (StudyError, OSError):
            return self.protocol.model_spec

    def ai_closed_reason(self, info: SessionInfo) -> str | None:
        """Why a session with aided cases cannot open for the AI (None: it can, or it has none).

        A session already done is not affected; a locked one gets the reason too, so the
        admin sees it before the washout ends (``readerstudy status``)."""
        if not info.has_aided or info.state == "done":
            return None
        return self.ai_readiness().closed_reason

    def override_washout(self, reader: str, index: int, reason: str, actor: str = "admin") -> None:
        """Open a reader's later session before the washout ends; audited."""
        if not reason.strip():
            raise StudyError(["override-washout: a reason is required"])
        now = self.clock()
        with self.store.transaction() as s:
            row = self._reader(s, reader)
            if index not in [i for i, _, _ in self._plan(s, row)] or index < 2:
                raise StudyError([f"reader {reader}: session {index} has no washout to override"])
            s.add(WashoutOverrideRow(reader_id=row.id, session_index=index, reason=reason.strip(), at=now))
            audit.append(
                s, now, actor, "washout.override", {"reader": reader, "session": index, "reason": reason.strip()}
            )

    def start(self, reader: str, index: int, workstation: str | None = None, take_over: bool = False) -> ReadingSession:
        """Open a reader's session on this workstation (default ``workstation_id()``).

        Raises LeaseHeld while another workstation runs it, OpenInAnotherWindow while
        another window of this workstation runs it, and LeaseStale when it was left open
        on another workstation that stopped; ``take_over=True`` (after the reader chose
        to) then moves it here, audited as ``lease.taken_over``.  A session left by a
        window of this workstation that stopped (crash) resumes at once; the session's
        ``resumed_from`` then names that window.  See ``ReadingSession.acquire``.
        """
        info = next((i for i in self.sessions(reader) if i.index == index), None)
        if info is None:
            raise StudyError([f"reader {reader}: no session {index} in this study"])
        if info.state == "locked":
            if info.opens_at is None:
                raise SessionLocked(f"The {info.name} session opens after the previous session is finished.")
            days = math.ceil((info.opens_at - self.clock()).total_seconds() / 86400)
            raise SessionLocked(f"The {info.name} session opens on {info.opens_at:%Y-%m-%d}, in {days} days (washout).")
        # An aided read without the AI output would be an unaided read recorded as aided.
        reason = self.ai_closed_reason(info)
        if reason:
            title = session_title(info)
            raise SessionLocked(f"{title} {reason}." if reason.startswith("needs") else f"{title} waits: {reason}.")
        with self.store.Session() as s:
            row = self._reader(s, reader)
            modes = {i: m for i, _, m in self._plan(s, row)}[index]
        with_output = self.cases_with_ai_output()
        order = case_order([c.case_id for c in self.cases if c.case_id in modes], self.protocol.seed, reader, index)
        session = ReadingSession(self, row.id, reader, index, info.name, order, modes, workstation or workstation_id())
        session.acquire(take_over=take_over)
        # Aided cases the last precompute run could not read: skipped (audited), never read aided without the AI.
        for cid in order:
            if modes[cid] == "aided" and cid not in with_output and session._open(cid):
                session.mark_unavailable(session.item(cid), NO_AI_OUTPUT)
        return session

    def sittings(self, reader: str | None = None) -> list[Sitting]:
        """Every recorded sitting (all readers, or one), in the order they ended."""
        with self.store.Session() as s:
            q = (
                select(SittingRow, ReaderRow.code)
                .join(ReaderRow, ReaderRow.id == SittingRow.reader_id)
                .order_by(SittingRow.id)
            )
            if reader is not None:
                q = q.where(ReaderRow.code == reader)
            return [_sitting(row, code) for row, code in s.execute(q).all()]

    def ai_outputs(self) -> dict[str, AIOutput]:
        return self.store.ai_outputs()

    def case(self, case_id: str) -> Case:
        return self._case_by_id[case_id]


def _follow_cases_before_any_read(store: Store, case_ids: str) -> None:
    """Cases added to (or removed from) ``cases.csv`` before anyone read or opened a case:
    the recorded case list follows the table, with a ``cases.changed`` audit row (nothing was
    ordered or scored yet).  Once a case was opened, ``check_meta`` refuses a changed list."""
    with store.transaction() as s:
        audit.lock_head(s)
        row = s.get(Meta, "case_ids")
        if row is None or row.value == case_ids:
            return
        if s.execute(select(ReadRow.id).limit(1)).first() or s.execute(select(SittingRow.id).limit(1)).first():
            return
        old, new = set(json.loads(row.value)), set(json.loads(case_ids))
        row.value = case_ids
        audit.append(
            s,
            _utcnow(),
            store.actor,
            "cases.changed",
            {"before_any_read": True, "added": sorted(new - old), "removed": sorted(old - new)},
        )


def _sitting(row: SittingRow, reader: str) -> Sitting:
    return Sitting(
        reader,
        row.session_index,
        row.case_id,
        row.mode,
        row.started_at,
        row.ended_at,
        row.active_ms,
        row.outcome,
        row.read_id,
        row.ai_shown_ms,
        row.cam_shown_ms,
        row.workstation,
    )


def _has_ai_output(s, case_id: str) -> bool:
    return s.execute(select(AIOutputRow.id).where(AIOutputRow.case_id == case_id).limit(1)).first() is not None


def _open_sittings(s, reader_id: int, index: int, case_id: str) -> list[SittingRow]:
    """Sittings of a case left unanswered since its last read (they count towards the next read)."""
    same = (SittingRow.reader_id == reader_id, SittingRow.session_index == index, SittingRow.case_id == case_id)
    last = (
        select(func.coalesce(func.max(SittingRow.id), 0))
        .where(*same, SittingRow.read_id.is_not(None))
        .scalar_subquery()
    )
    return list(
        s.execute(
            select(SittingRow).where(*same, SittingRow.read_id.is_(None), SittingRow.id > last).order_by(SittingRow.id)
        ).scalars()
    )


def _cases_with_open_sittings(s, reader_id: int, index: int) -> set[str]:
    """Cases with a sitting left unanswered since their last read.  Kept in memory by the
    session holding the lease (no other workstation writes its sittings meanwhile), so a
    submit asks the store for earlier sittings only when there are some."""
    rows = s.execute(
        select(SittingRow.case_id, SittingRow.read_id)
        .where(SittingRow.reader_id == reader_id, SittingRow.session_index == index)
        .order_by(SittingRow.id)
    )
    open_cases: set[str] = set()
    for case_id, read_id in rows:
        (open_cases.discard if read_id is not None else open_cases.add)(case_id)
    return open_cases


class ReadingSession:
    """One reader working through one session on one workstation."""

    def __init__(
        self,
        engine: StudyEngine,
        reader_id: int,
        reader: str,
        index: int,
        name: str,
        order: list[str],
        modes: dict[str, str],
        workstation: str,
    ) -> None:
        self.engine, self.reader_id, self.reader, self.index, self.name = engine, reader_id, reader, index, name
        self.order, self.modes, self.workstation = order, modes, workstation
        self.token = uuid.uuid4().hex
        # The window whose session this one resumed because it had stopped (crash), if any.
        self.resumed_from: LeaseHolder | None = None
        with engine.store.Session() as s:
            self._answered = set(engine._answered(s, reader_id, index))
            # Unreadable cases are skipped, in this run and after a resume.
            self._unavailable = engine._unavailable(s, reader, index) - self._answered
            self._left = _cases_with_open_sittings(s, reader_id, index)

    # -- lease --------------------------------------------------------------
    def _locked_lease(self, s) -> LeaseRow | None:
        """This session's lease row, locked for the transaction (FOR UPDATE on PostgreSQL)."""
        return s.execute(
            select(LeaseRow)
            .where(LeaseRow.reader_id == self.reader_id, LeaseRow.session_index == self.index)
            .with_for_update()
        ).scalar_one_or_none()

    def acquire(self, take_over: bool = False) -> None:
        """Hold (or renew) this session's lease.

        - free, or already this window's: held (renewed);
        - left by a window that stopped sending heartbeats (crash) on this workstation:
          resumed at once (audited ``lease.resumed``; ``resumed_from`` says whose it was);
        - alive in another window on this workstation: OpenInAnotherWindow, unless
          ``take_over`` (the reader chose to), which stops the other window;
        - stale on another workstation: LeaseStale, unless ``take_over``;
        - alive on another workstation: LeaseHeld, always.
        A refusal writes nothing.  A take-over is audited as ``lease.taken_over``.
        """
        now = self.engine.clock()
        expires = now + timedelta(seconds=LEASE_SECONDS)
        try:
            with self.engine.store.transaction() as s:
                lease = self._locked_lease(s)
                if lease is None:
                    s.add(
                        LeaseRow(
                            reader_id=self.reader_id,
                            session_index=self.index,
                            token=self.token,
                            workstation=self.workstation,
                            heartbeat_at=now,
                            expires_at=expires,
                            opened_at=now,
                        )
                    )
                    self._refresh(s)  # another window may have written since this object was made
                    return
                if lease.token == self.token:
                    lease.heartbeat_at, lease.expires_at = now, expires
                    return
                stale = lease.expires_at <= now
                here = lease.workstation == self.workstation
                if not stale and not here:
                    raise LeaseHeld(
                        f"This session is open on workstation {lease.workstation!r} "
                        f"(opened {_at(lease.opened_at)}, last heartbeat {_at(lease.heartbeat_at)}; "
                        f"until {lease.expires_at:%H:%M:%S} UTC unless it stops)."
                    )
                if not take_over and not (stale and here):
                    raise (
                        LeaseStale(lease.workstation, lease.heartbeat_at)
                        if stale
                        else OpenInAnotherWindow(_holder(lease))
                    )
                previous = _holder(lease)
                audit.append(
                    s,
                    now,
                    self.reader,
                    "lease.resumed" if stale and here else "lease.taken_over",
                    {
                        "session": self.index,
                        "workstation": self.workstation,
                        "from_workstation": lease.workstation,
                        "from_window_alive": not stale,
                        "last_heartbeat": lease.heartbeat_at.isoformat(),
                    },
                )
                lease.token, lease.workstation, lease.heartbeat_at, lease.expires_at, lease.opened_at = (
                    self.token,
                    self.workstation,
                    now,
                    expires,
                    now,
                )
                # The previous window may have read, left or skipped cases since this object was made.
                self._refresh(s)
                self.resumed_from = previous if stale else None
        except IntegrityError:
            # Another process inserted the lease between our read and our insert.
            raise LeaseHeld("This session was just opened on another workstation.") from None

    def _refresh(self, s) -> None:
        """Reload what other windows may have changed: answered, skipped and left cases."""
        self._answered = set(self.engine._answered(s, self.reader_id, self.index))
        self._unavailable = self.engine._unavailable(s, self.reader, self.index) - self._answered
        self._left = _cases_with_open_sittings(s, self.reader_id, self.index)

    def _held_lease(self, s) -> LeaseRow:
        """This window's lease, locked for the transaction; SessionMoved when another window has it."""
        lease = self._locked_lease(s)
        if lease is None or lease.token != self.token:
            raise SessionMoved(None if lease is None else _holder(lease))
        return lease

    def heartbeat(self) -> None:
        """Renew the lease; raises SessionMoved when another window took the session over."""
        now = self.engine.clock()
        with self.engine.store.transaction() as s:
            lease = self._held_lease(s)
            lease.heartbeat_at, lease.expires_at = now, now + timedelta(seconds=LEASE_SECONDS)

    def close(self) -> None:
        with self.engine.store.transaction() as s:
            s.execute(
                delete(LeaseRow).where(
                    LeaseRow.reader_id == self.reader_id,
                    LeaseRow.session_index == self.index,
                    LeaseRow.token == self.token,
                )
            )
        # The session's end anchors the chain outside the database (study.store.anchor).
        self.engine.store.write_anchor(f"session end {self.reader}/{self.index}")

    # -- cases ----------------------------------------------------------------
    def _item(self, position: int) -> CaseItem:
        cid = self.order[position - 1]
        return CaseItem(cid, position, len(self.order), self.modes[cid], self.engine.case(cid).media)

    def _open(self, case_id: str) -> bool:
        return case_id not in self._answered and case_id not in self._unavailable

    def next_item(self) -> CaseItem | None:
        for pos, cid in enumerate(self.order, start=1):
            if self._open(cid):
                return self._item(pos)
        return None

    def peek_next(self, after: CaseItem) -> CaseItem | None:
        for pos in [*range(after.position + 1, len(self.order) + 1), *range(1, after.position)]:
            if self._open(self.order[pos - 1]):
                return self._item(pos)
        return None

    def mark_unavailable(self, item: CaseItem, cause: str) -> None:
        """Skip a case whose media cannot be read; the cause goes to the audit log
        so the study admin sees it, and the rest of the session goes on."""
        with self.engine.store.transaction() as s:
            self._held_lease(s)
            audit.append(
                s,
                self.engine.clock(),
                self.reader,
                "case.unavailable",
                {"session": self.index, "case": item.case_id, "cause": cause},
            )
        self._unavailable.add(item.case_id)

    @property
    def answered(self) -> frozenset[str]:
        """Cases of this session with a committed read."""
        return frozenset(self._answered)

    @property
    def unavailable(self) -> frozenset[str]:
        return frozenset(self._unavailable)

    def item(self, case_id: str) -> CaseItem:
        return self._item(self.order.index(case_id) + 1)

    def progress(self) -> tuple[int, int]:
        """(cases done, cases in the session); unreadable cases count as done."""
        return len(self._answered | self._unavailable), len(self.order)

    def ai_outputs(self) -> dict[str, AIOutput]:
        """AI outputs of this session's aided cases only (none at all in an unaided session)."""
        aided = {cid for cid, mode in self.modes.items() if mode == "aided"}
        if not aided:
            return {}
        return {cid: out for cid, out in self.engine.ai_outputs().items() if cid in aided}

    def own_answers(self) -> dict[str, str]:
        """This reader's latest answer per case in this session (their own, never others')."""
        with self.engine.store.Session() as s:
            rows = s.execute(
                select(ReadRow.case_id, ReadRow.answer)
                .where(ReadRow.reader_id == self.reader_id, ReadRow.session_index == self.index)
                .order_by(ReadRow.id)
            ).all()
        return {cid: answer for cid, answer in rows}

    def ai_output(self, item: CaseItem) -> AIOutput | None:
        # The AI is invisible in unaided reads, whatever the store holds.
        if item.mode != "aided" or self.modes.get(item.case_id) != "aided":
            return None
        return self.engine.store.ai_output(item.case_id)

    # -- reads ------------------------------------------------------------------
    def leave(self, read: ReadSubmission, draft: Mapping[str, object] | None = None) -> None:
        """Record a sitting that ended without an answer (Exit, another slide opened, window
        closed).  ``read`` carries the sitting's times; its answer fields are ignored.  The
        sitting's time counts towards the case's next read.  ``draft``: the reader's partial
        answer on screen (JSON-able, at most DRAFT_MAX_CHARS), kept with the sitting and given
        back by ``draft()`` when the reader returns to the case."""
        if read.case_id not in self.modes:
            raise StudyError([f"case {read.case_id} is not in this session"])
        if read.active_ms < 0 or read.submitted_at < read.displayed_at:
            raise StudyError([f"sitting of case {read.case_id}: timing is inconsistent"])
        _check_field_views(read)
        text = None
        if draft:
            try:
                text = json.dumps(dict(draft), allow_nan=False, sort_keys=True)
            except (TypeError, ValueError) as err:
                raise StudyError(
                    [f"sitting of case {read.case_id}: the unsubmitted answer is not JSON: {err}"]
                ) from None
            if len(text) > DRAFT_MAX_CHARS:
                raise StudyError([f"sitting of case {read.case_id}: the unsubmitted answer is too long"])
        now = self.engine.clock()
        with self.engine.store.transaction() as s:
            # A window that lost the session records no sitting: its time would be counted in
            # (or left out of) a read another window makes.
            self._held_lease(s)
            row = self._sitting_row(read, "left", None)
            row.draft = text
            s.add(row)
            s.flush()
            self._add_field_views(s, read, row.id, None)
            audit.append(
                s,
                now,
                self.reader,
                "case.left",
                {"sitting_id": row.id, "session": self.index, "case": read.case_id, "active_ms": row.active_ms},
            )
        self._left.add(read.case_id)

    def draft(self, case_id: str) -> dict | None:
        """This reader's unsubmitted answer to ``case_id`` in this session, as left at the last
        sitting since the case's last read; None when there is none (or it was cleared)."""
        if case_id not in self._left:
            return None  # no sitting left unanswered: nothing to ask the store
        with self.engine.store.Session() as s:
            open_ = _open_sittings(s, self.reader_id, self.index, case_id)
        if not open_ or open_[-1].draft is None:
            return None
        return json.loads(open_[-1].draft)

    def _sitting_row(self, read: ReadSubmission, outcome: str, read_id: int | None) -> SittingRow:
        return SittingRow(
            reader_id=self.reader_id,
            session_index=self.index,
            case_id=read.case_id,
            mode=self.modes[read.case_id],
            started_at=read.displayed_at,
            ended_at=read.submitted_at,
            active_ms=int(read.active_ms),
            ai_shown_ms=int(read.ai_shown_ms),
            cam_shown_ms=int(read.cam_shown_ms),
            outcome=outcome,
            read_id=read_id,
            workstation=self.workstation,
        )

    def _add_field_views(self, s, read: ReadSubmission, sitting_id: int, read_id: int | None) -> None:
        for v in read.field_views:
            s.add(
                FieldViewRow(
                    reader_id=self.reader_id,
                    session_index=self.index,
                    case_id=read.case_id,
                    sitting_id=sitting_id,
                    read_id=read_id,
                    seq=v.seq,
                    field_index=v.field_index,
                    shown_ms=int(v.shown_ms),
                    decisive=bool(v.decisive),
                    ai_rank=v.ai_rank,
                    in_top_k=v.in_top_k,
                )
            )

    def field_views(self, case_id: str | None = None) -> list[FieldView]:
        """This reader's field openings in this session (one case, or all), in the order stored."""
        q = select(FieldViewRow).where(
            FieldViewRow.reader_id == self.reader_id, FieldViewRow.session_index == self.index
        )
        if case_id is not None:
            q = q.where(FieldViewRow.case_id == case_id)
        with self.engine.store.Session() as s:
            rows = s.execute(q.order_by(FieldViewRow.id)).scalars().all()
        return [FieldView(r.seq, r.field_index, r.shown_ms, r.decisive, r.ai_rank, r.in_top_k) for r in rows]

    def sittings(self) -> list[Sitting]:
        """This reader's sittings in this session, in the order they ended."""
        with self.engine.store.Session() as s:
            rows = s.execute(
                select(SittingRow)
                .where(SittingRow.reader_id == self.reader_id, SittingRow.session_index == self.index)
                .order_by(SittingRow.id)
            ).scalars()
            return [_sitting(r, self.reader) for r in rows]

    def submit(self, read: ReadSubmission, supersedes: int | None = None, reason: str | None = None) -> int:
        """Commit one read (its own transaction) and return its row id.

        ``read`` times the last sitting (drawn to submitted).  Earlier sittings of the
        case left unanswered since its previous read are added in: the stored read's
        ``active_ms``, ``ai_shown_ms`` and ``cam_shown_ms`` are totals over all its
        sittings and ``displayed_at`` is when the first of them began.  Every sitting
        is a row of ``sittings`` (see ``sittings()``)."""
        if read.case_id not in self.modes:
            raise StudyError([f"case {read.case_id} is not in this session"])
        if supersedes is None and read.case_id in self._answered:
            raise StudyError([f"case {read.case_id} is already answered; a change is a correction with a reason"])
        _check_answer(self.engine.protocol, read)
        _check_field_views(read)
        consistency = read_consistency(self.engine.protocol, read)
        now = self.engine.clock()
        with self.engine.store.transaction() as s:
            lease = self._held_lease(s)  # another window has it: this read is not saved
            if self.modes[read.case_id] == "aided" and not _has_ai_output(s, read.case_id):
                raise StudyError(
                    [
                        f"read of case {read.case_id}: an aided read needs the AI's output for this case; the store has none"
                    ]
                )
            earlier = _open_sittings(s, self.reader_id, self.index, read.case_id) if read.case_id in self._left else []
            row = ReadRow(
                reader_id=self.reader_id,
                session_index=self.index,
                case_id=read.case_id,
                mode=self.modes[read.case_id],
                answer=read.answer,
                confidence=read.confidence,
                distribution=json.dumps(list(read.distribution)) if read.distribution is not None else None,
                value=read.value,
                displayed_at=min([read.displayed_at, *(e.started_at for e in earlier)]),
                submitted_at=read.submitted_at,
                active_ms=int(read.active_ms) + sum(e.active_ms for e in earlier),
                ai_shown_ms=int(read.ai_shown_ms) + sum(e.ai_shown_ms for e in earlier),
                cam_shown=bool(read.cam_shown) or any(e.cam_shown_ms > 0 for e in earlier),
                cam_shown_ms=int(read.cam_shown_ms) + sum(e.cam_shown_ms for e in earlier),
                answer_changes=int(read.answer_changes),
                workstation=self.workstation,
                supersedes_id=supersedes,
                correction_reason=reason,
                consistency=consistency,
                **_region_columns(read, self.modes[read.case_id]),
            )
            s.add(row)
            s.flush()
            sitting = self._sitting_row(read, "submitted", row.id)
            s.add(sitting)
            s.flush()
            self._add_field_views(s, read, sitting.id, row.id)
            action = "read.submitted"
            audit.append(
                s,
                now,
                self.reader,
                action,
                {
                    "read_id": row.id,
                    "digest": audit.read_digest(row),
                    "session": self.index,
                    "case": read.case_id,
                    "supersedes": supersedes,
                    "consistency": consistency,
                },
            )
            lease.heartbeat_at, lease.expires_at = now, now + timedelta(seconds=LEASE_SECONDS)
        self._answered.add(read.case_id)
        self._left.discard(read.case_id)
        return row.id

    def correct(self, read: ReadSubmission, reason: str) -> int:
        """A new row that replaces the reader's latest read of the case; the old row stays."""
        if not reason.strip():
            raise StudyError(["a correction needs a reason"])
        with self.engine.store.Session() as s:
            latest = s.execute(
                select(ReadRow.id)
                .where(
                    ReadRow.reader_id == self.reader_id,
                    ReadRow.session_index == self.index,
                    ReadRow.case_id == read.case_id,
                )
                .order_by(ReadRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        if latest is None:
            raise StudyError([f"case {read.case_id} has no read to correct"])
        return self.submit(read, supersedes=latest, reason=reason.strip())


class SessionView:
    """What a reading screen may use of one ReadingSession, and nothing more.

    The screen's state holds this instead of the session: it offers the
    session's cases (plain ``CaseItem``: id to hand back, position, mode, media
    paths), the AI output of *aided* cases only, submit and skip of this
    reader's reads, and progress.  It exposes no engine, store, truth, protocol
    internals or other readers' reads.  In a session without aided cases (the
    unaided session of a sequential design) it has no AI source at all, so no AI
    value can reach the screen whatever the store holds.
    """

    __slots__ = ("__ai", "__session", "name")

    def __init__(self, session: ReadingSession) -> None:
        self.__session = session
        self.name = session.name
        aided = any(mode == "aided" for mode in session.modes.values())
        self.__ai = session.ai_output if aided else None

    @classmethod
    def of(cls, session: ReadingSession | SessionView) -> SessionView:
        return session if isinstance(session, SessionView) else cls(session)

    @property
    def has_aided_cases(self) -> bool:
        return self.__ai is not None

    def next_item(self) -> CaseItem | None:
        return self.__session.next_item()

    def peek_next(self, after: CaseItem) -> CaseItem | None:
        return self.__session.peek_next(after)

    def item(self, case_id: str) -> CaseItem:
        return self.__session.item(case_id)

    def ai_output(self, item: CaseItem) -> AIOutput | None:
        """The AI output of an aided case; None for an unaided one (decided by the
        session's own plan, not by ``item.mode``)."""
        return None if self.__ai is None else self.__ai(item)

    def mark_unavailable(self, item: CaseItem, cause: str) -> None:
        self.__session.mark_unavailable(item, cause)

    def submit(self, read: ReadSubmission) -> int:
        return self.__session.submit(read)

    def correct(self, read: ReadSubmission, reason: str) -> int:
        """A new read that supersedes this reader's earlier one of the case (audited, with the reason)."""
        return self.__session.correct(read, reason)

    def leave(self, read: ReadSubmission, draft: Mapping[str, object] | None = None) -> None:
        """Record a sitting that ended without an answer, with the reader's partial answer
        (see ``ReadingSession.leave``)."""
        self.__session.leave(read, draft)

    def draft(self, case_id: str) -> dict | None:
        """This reader's own unsubmitted answer to the case in this session (``ReadingSession.draft``)."""
        return self.__session.draft(case_id)

    def progress(self) -> tuple[int, int]:
        return self.__session.progress()

    @property
    def answered(self) -> frozenset[str]:
        return self.__session.answered

    @property
    def unavailable(self) -> frozenset[str]:
        return self.__session.unavailable
