"""The truth seal: the truth the statistics score reads against, fixed like ``study.toml``.

What is sealed: every case's ``truth`` value in ``cases.csv`` and, for region
studies, the sha256 of each case's truth mask file (with its path).  Media
paths and other columns are not sealed: moving the images does not change a
result.  The seal is one ``meta`` row (``truth_seal``, JSON), so the audit
chain covers it like every study fact.

- First open of a study (``StudyEngine.open``) or the first results after
  this existed (a legacy store): the truth as found is sealed, with a
  ``truth.sealed`` audit row (``reads_before_seal`` > 0 says the store held
  reads before its truth was sealed).
- While no case was read or opened, a changed truth table (cases added, a truth
  fixed) is re-sealed as found (``truth.resealed``): nothing was scored or
  ordered by it yet, so nothing changes under anyone.
- Once reads exist, results (``report``, the reads/AI tables, the admin's
  Results tab and export) refuse a truth that differs from the seal, naming
  the file and the cases, until the researcher records the change on purpose
  with ``readerstudy truth-correct STUDY --reason TEXT`` (``truth.corrected``:
  who, when, why, the old and new seal hashes and every changed case).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from study.cases import Case
from study.errors import StudyError

SEAL_KEY = "truth_seal"
CASES_FILE = "cases.csv"


@dataclass(frozen=True)
class TruthChange:
    """One case whose truth differs from the seal.

    ``file``: the file that changed (``cases.csv`` or the truth mask), absolute;
    ``old``/``new``: the truth value, or ``sha256:<first 12 hex>`` of a mask;
    None when the case is not in the seal (added) or no longer in the table (removed).
    """

    case_id: str
    file: str
    old: str | None
    new: str | None

    def text(self) -> str:
        if self.old is None:
            return f"{self.case_id}: added ({self.new})"
        if self.new is None:
            return f"{self.case_id}: removed (was {self.old})"
        return f"{self.case_id}: {self.old} -> {self.new}"

    def as_dict(self) -> dict:
        return {"case_id": self.case_id, "file": self.file, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class TruthState:
    """The truth now against the seal: ``changes`` empty when they agree.

    ``sealed_at``: when the seal (or its last correction) was recorded; ``sha256``: the seal's
    hash; ``event``: what this check recorded (``"sealed"``, ``"resealed"`` or ``""``; ``correct``
    returns ``"corrected"`` with the corrected cases as ``changes``)."""

    sha256: str
    sealed_at: str
    changes: tuple[TruthChange, ...]
    event: str = ""
    reads_before_seal: int = 0
    corrections: int = 0  # truth.corrected rows recorded so far

    @property
    def ok(self) -> bool:
        return not self.changes

    def files(self) -> list[str]:
        return list(dict.fromkeys(c.file for c in self.changes))


def _rel(study_dir: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(study_dir).as_posix()
    except ValueError:
        return str(path)


def _mask_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:
        return f"unreadable ({err.__class__.__name__})"


def current_truth(study_dir: Path, cases: Iterable[Case]) -> dict:
    """The sealable truth of ``cases``: {"truth": {case: value}, "masks": {case: {"path", "sha256"}}}."""
    truth, masks = {}, {}
    for c in cases:
        truth[c.case_id] = c.truth
        if c.truth_mask is not None:
            masks[c.case_id] = {"path": _rel(study_dir, c.truth_mask), "sha256": _mask_digest(c.truth_mask)}
    return {"truth": truth, "masks": masks}


def digest(truth: dict) -> str:
    """sha256 of the canonical JSON of ``current_truth``'s dict."""
    text = json.dumps({"truth": truth["truth"], "masks": truth["masks"]}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _short(mask: dict | None) -> str | None:
    return None if mask is None else f"sha256:{mask['sha256'][:12]}"


def differences(study_dir: Path, sealed: dict, now: dict) -> tuple[TruthChange, ...]:
    """Every case whose truth or truth mask differs: in the table's order, then the removed cases."""
    table = str(study_dir / CASES_FILE)
    changes = []
    old_t, new_t = sealed["truth"], now["truth"]
    order = [*new_t, *(cid for cid in old_t if cid not in new_t)]
    for cid in order:
        if old_t.get(cid) != new_t.get(cid):
            changes.append(TruthChange(cid, table, old_t.get(cid), new_t.get(cid)))
    old_m, new_m = sealed.get("masks", {}), now["masks"]
    for cid in [*new_m, *(cid for cid in old_m if cid not in new_m)]:
        a, b = old_m.get(cid), new_m.get(cid)
        if (a or {}).get("sha256") != (b or {}).get("sha256"):
            path = (b or a)["path"]
            changes.append(TruthChange(cid, str(study_dir / path), _short(a), _short(b)))
    return tuple(changes)


def _reads(s) -> int:
    from study.store.schema import ReadRow

    return int(s.execute(select(func.count()).select_from(ReadRow)).scalar_one())


def _opened(s) -> bool:
    """Whether any case was put on a reader's screen (a sitting), read or not."""
    from study.store.schema import SittingRow

    return s.execute(select(SittingRow.id).limit(1)).first() is not None


def _load(s) -> dict | None:
    from study.store.schema import Meta

    row = s.get(Meta, SEAL_KEY)
    return None if row is None else json.loads(row.value)


def _write(s, truth: dict, at: datetime, corrections: int = 0) -> str:
    from study.store.schema import Meta

    sha = digest(truth)
    value = json.dumps(
        {"sha256": sha, "sealed_at": at.isoformat(), "corrections": corrections, **truth}, sort_keys=True
    )
    row = s.get(Meta, SEAL_KEY)
    if row is None:
        s.add(Meta(key=SEAL_KEY, value=value))
    else:
        row.value = value
    return sha


def check(store, study_dir: str | Path, cases: Iterable[Case]) -> TruthState:
    """Compare the truth of ``cases`` with the store's seal, sealing it when there is none yet
    and re-sealing it while no case was read or opened (each an audit row).  Never refuses:
    see :func:`require_sealed` for the refusal."""
    from study.store import audit

    study_dir = Path(study_dir).resolve()
    now = current_truth(study_dir, cases)
    for attempt in range(3):
        try:
            with store.transaction() as s:
                audit.lock_head(s)  # one sealer at a time (PostgreSQL: row lock; SQLite: the write lock)
                sealed = _load(s)
                if sealed is not None and sealed["sha256"] == digest(now):
                    return TruthState(
                        sealed["sha256"], sealed["sealed_at"], (), corrections=sealed.get("corrections", 0)
                    )
                reads = _reads(s)
                at = datetime.now(UTC)
                if sealed is None:
                    sha = _write(s, now, at)
                    payload = {"sha256": sha, "cases": len(now["truth"]), "masks": len(now["masks"])}
                    if reads:
                        payload["reads_before_seal"] = reads
                        payload["note"] = (
                            "store made before the truth was sealed: sealed as found now; "
                            "the truth its earlier reports used is not known"
                        )
                    audit.append(s, at, store.actor, "truth.sealed", payload)
                    return TruthState(sha, at.isoformat(), (), "sealed", reads)
                changes = differences(study_dir, sealed, now)
                if reads or _opened(s):  # crossover blocks follow the truth: fixed once a case was opened
                    return TruthState(
                        sealed["sha256"], sealed["sealed_at"], changes, corrections=sealed.get("corrections", 0)
                    )
                sha = _write(s, now, at)
                audit.append(
                    s,
                    at,
                    store.actor,
                    "truth.resealed",
                    {
                        "reason": "no case read or opened yet",
                        "old_sha256": sealed["sha256"],
                        "new_sha256": sha,
                        "changes": [c.as_dict() for c in changes],
                    },
                )
                return TruthState(sha, at.isoformat(), (), "resealed")
        except IntegrityError:  # another process sealed it at the same moment: read theirs
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def refusal(study_dir: Path, state: TruthState, limit: int = 10) -> list[str]:
    """One line per changed file: the file, since when it is sealed, the cases (old -> new), what to do."""
    lines = []
    for file in state.files():
        changed = [c for c in state.changes if c.file == file]
        shown = "; ".join(c.text() for c in changed[:limit])
        more = f"; and {len(changed) - limit} more" if len(changed) > limit else ""
        what = "truth table" if Path(file).name == CASES_FILE and Path(file).parent == study_dir else "truth mask"
        lines.append(
            f"{file}: the {what} changed since the truth was sealed ({state.sealed_at[:19]} UTC), "
            f"{len(changed)} case(s): {shown}{more}; no results from a changed truth. Restore the file, or record "
            f'the change on purpose with `readerstudy truth-correct {study_dir} --reason "..."`'
        )
    return lines


def require_sealed(store, study_dir: str | Path) -> None:
    """StudyError naming each changed truth file unless the truth equals its seal (sealing it when unsealed)."""
    from study.cases import load_cases
    from study.protocol import load_protocol

    study_dir = Path(study_dir).resolve()
    cases = load_cases(study_dir, load_protocol(study_dir), check_media=False)
    state = check(store, study_dir, cases)
    if not state.ok:
        raise StudyError(refusal(study_dir, state))


def correct(store, study_dir: str | Path, cases: Iterable[Case], reason: str, actor: str) -> TruthState:
    """Record the current truth as the seal on purpose: a ``truth.corrected`` audit row naming
    ``actor``, the reason, the old and new seal hashes and every changed case.

    Raises StudyError without a reason, and when the truth equals the seal (nothing to correct)."""
    from study.store import audit

    study_dir = Path(study_dir).resolve()
    reason = (reason or "").strip()
    if not reason:
        raise StudyError(["truth-correct: --reason: a reason is required (it goes into the audit log)"])
    now = current_truth(study_dir, cases)
    with store.transaction() as s:
        audit.lock_head(s)
        sealed = _load(s)
        if sealed is None or sealed["sha256"] == digest(now):
            raise StudyError(
                [f"{study_dir / CASES_FILE}: the truth equals its seal; nothing to correct (no audit row written)"]
            )
        changes = differences(study_dir, sealed, now)
        at = datetime.now(UTC)
        corrections = sealed.get("corrections", 0) + 1
        sha = _write(s, now, at, corrections)
        audit.append(
            s,
            at,
            actor,
            "truth.corrected",
            {
                "reason": reason,
                "old_sha256": sealed["sha256"],
                "new_sha256": sha,
                "changes": [c.as_dict() for c in changes],
            },
        )
    return TruthState(sha, at.isoformat(), changes, "corrected", corrections=corrections)
