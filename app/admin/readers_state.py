"""Readers and sessions of a study: progress, washout remaining, overrides, audit (no Qt)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from study.commands.status import study_status
from study.engine import StudyEngine
from study.errors import StudyError

AUDIT_COLUMNS = ("id", "at", "actor", "action", "payload", "hash")


@dataclass(frozen=True)
class SessionCell:
    index: int
    name: str
    state: str
    done: int
    total: int
    washout_days: float | None  # remaining, when locked by the washout
    ai_closed: str | None = None  # why its aided reads cannot open (study.engine.AIReadiness), if so

    @property
    def text(self) -> str:
        if self.state == "locked":
            if self.washout_days is None:
                return "locked (previous session unfinished)"
            return f"washout: {self.washout_days:.1f} days left"
        progress = f"{self.state} {self.done}/{self.total}"
        return f"{progress} \u00b7 {self.ai_closed}" if self.ai_closed else progress

    @property
    def can_override(self) -> bool:
        return self.state == "locked" and self.washout_days is not None


@dataclass(frozen=True)
class ReaderLine:
    code: str
    group: str
    sessions: tuple[SessionCell, ...]


class ReadersState:
    """Bound to the readers screen; every action goes to the engine or the store."""

    def __init__(self, engine: StudyEngine) -> None:
        self.engine = engine
        self.lines: list[ReaderLine] = []
        self.session_names: list[str] = []
        self.audit_text = ""
        self.audit_ok: bool | None = None
        self.message = ""
        self.message_ok = False  # True: the message reports a success (shown in green)
        # Which form the message answers, shown next to it: "add" (Add a reader), "override"
        # (the washout override), "" (below the table: the audit export).
        self.message_about = ""
        # Enrolled codes that differ only in case or spaces (a store made before they were refused).
        self.code_warnings: list[str] = []
        self.refresh()

    @property
    def totals(self) -> tuple[int, int]:
        """(reads done, reads planned) over every reader and session."""
        cells = [c for line in self.lines for c in line.sessions]
        return sum(c.done for c in cells), sum(c.total for c in cells)

    @property
    def groups(self) -> tuple[str, ...]:
        return self.engine.protocol.groups

    def refresh(self) -> None:
        status = study_status(self.engine)
        self.lines = [
            ReaderLine(
                r["reader"],
                r["group"],
                tuple(
                    SessionCell(
                        s["session"],
                        s["name"],
                        s["state"],
                        s["done"],
                        s["total"],
                        s["washout_days_remaining"],
                        s["ai_closed"],
                    )
                    for s in r["sessions"]
                ),
            )
            for r in status["readers"]
        ]
        self.session_names = [s.name for s in self.lines[0].sessions] if self.lines else []
        self.code_warnings = list(status["warnings"])
        a = status["audit"]
        self._set_audit(a["ok"], a["rows"], a["first_broken"], a["reason"])

    def _set_audit(self, ok: bool, rows: int, first_broken, reason) -> None:
        self.audit_ok = ok
        self.audit_text = (
            f"Audit chain intact: {rows} row{'' if rows == 1 else 's'} verified."
            if ok
            else f"Audit chain BROKEN at row {first_broken}: {reason}"
        )

    def add_reader(self, code: str, group: str, pin: str) -> bool:
        """Enrol a reader (same rule as `readerstudy readers add`: group must be one of the study's)."""
        try:
            if self.groups and group not in self.groups:
                raise StudyError([f"group {group!r} is not one of the study's groups ({', '.join(self.groups)})"])
            self.engine.store.add_reader(code, group, pin)
        except StudyError as err:
            self.message, self.message_ok, self.message_about = "; ".join(err.problems), False, "add"
            return False
        self.message, self.message_ok, self.message_about = f"Added reader {code.strip()}.", True, "add"
        self.refresh()
        return True

    def override_washout(self, reader: str, index: int, reason: str) -> bool:
        try:
            self.engine.override_washout(reader, index, reason, actor="admin")
        except StudyError as err:
            self.message, self.message_ok, self.message_about = "; ".join(err.problems), False, "override"
            return False
        self.message_ok, self.message_about = True, "override"
        self.message = f"Session {index} of {reader} opened before the washout ended (audited)."
        self.refresh()
        return True

    def verify_chain(self) -> bool:
        check = self.engine.store.verify_chain()
        self._set_audit(check.ok, check.rows, check.first_broken, check.reason)
        return check.ok

    def export_audit(self, path: Path) -> Path:
        rows = self.engine.store.audit_rows()
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows({k: r[k] for k in AUDIT_COLUMNS} for r in rows)
        self.message, self.message_ok, self.message_about = f"Wrote {len(rows)} audit rows to {path}.", True, ""
        return path
