"""The study store: readers, reads, AI outputs, leases and the audit log.

One SQLite file in the study folder by default; the same schema on
PostgreSQL for multi-workstation studies (``postgresql+psycopg://`` URL).
Only plain data leaves this package: dataclasses, AIOutput, DataFrames.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from study.aioutput import AIOutput
from study.errors import StudyError
from study.security import code_collisions, code_key, code_problem, hash_secret, secret_problem, verify_secret
from study.specimen import FieldScore
from study.store import anchor, audit, coverage, identity
from study.store.db import default_url, make_engine, migrate
from study.store.schema import AIOutputRow, AuditRow, LockoutRow, Meta, ReaderRow

MAX_ADMIN_TRIES = 5
ADMIN_LOCKOUT = timedelta(minutes=5)

__all__ = ["Store", "ReaderInfo", "reads_table", "ai_table", "resolve_url", "anchor_outputs"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def resolve_url(study_dir: str | Path, url: str | None = None) -> str:
    """An explicit URL wins; else a `db_url` file in the study folder; else SQLite there."""
    if url:
        return url
    pointer = Path(study_dir) / "db_url"
    if pointer.is_file():
        text = pointer.read_text().strip()
        if text:
            return text
    return default_url(study_dir)


@dataclass(frozen=True)
class ReaderInfo:
    code: str
    group: str


def _pack_cams(cams: dict[str, np.ndarray]) -> bytes | None:
    if not cams:
        return None
    buf = io.BytesIO()
    np.savez_compressed(buf, **{role: np.asarray(a, dtype=np.float16) for role, a in cams.items()})
    return buf.getvalue()


def _unpack_cams(blob: bytes | None) -> dict[str, np.ndarray]:
    if not blob:
        return {}
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {role: npz[role] for role in npz.files}


def _to_output(row: AIOutputRow) -> AIOutput:
    p = json.loads(row.payload)
    return AIOutput(
        case_id=row.case_id,
        model_id=row.model_id,
        head=row.head,
        labels=tuple(p.get("labels", ())),
        probabilities=tuple(p.get("probabilities", ())),
        value=p.get("value"),
        interval=tuple(p["interval"]) if p.get("interval") else None,
        predicted=p.get("predicted", ""),
        score=float(p["score"]) if p.get("score") is not None else float("nan"),
        cams=_unpack_cams(row.cams),
        cam_method=p.get("cam_method", ""),
        versions=p.get("versions", {}),
        measurements={k: float(v) for k, v in (p.get("measurements") or {}).items()},
        fields=tuple(
            FieldScore(
                int(f["index"]),
                float(f["score"]) if f.get("score") is not None else float("nan"),
                tuple(float(x) for x in f.get("probabilities", ())),
                f.get("predicted", ""),
            )
            for f in p.get("fields", ())
        ),
        aggregate=p.get("aggregate", ""),
        threshold=p.get("threshold"),
        threshold_rule=p.get("threshold_rule", "") or "",
        positive=tuple(p.get("positive", ())),
        cam_target=p.get("cam_target", "") or "",
    )


class Store:
    def __init__(self, engine: Engine, url: str, study_dir: str | Path | None = None) -> None:
        self.engine = engine
        self.url = url
        self.study_dir = Path(study_dir) if study_dir is not None else None
        self.store_id = ""
        self.actor = "app"  # who the audit rows of otherwise unattributed writes name
        self.Session = sessionmaker(engine, expire_on_commit=False)
        # Every covered row written through this store's sessions is sealed in the chain.
        event.listen(self.Session, "after_flush", coverage.track_flush)
        event.listen(self.Session, "before_commit", self._seal_pending)
        event.listen(self.Session, "after_rollback", lambda s: s.info.pop(coverage._PENDING, None))

    def _seal_pending(self, session: Session) -> None:
        session.flush()
        if coverage.has_pending(session):
            audit.append(session, utcnow(), self.actor, "rows.changed", {})

    @classmethod
    def open(cls, study_dir: str | Path, url: str | None = None) -> Store:
        """Open (creating on first use) the study's store.

        Raises StudyError for an unsupported URL, an unreachable database, and a
        store that this study folder recorded before but that is now missing,
        empty or another store (see ``study.store.identity``).
        """
        source = "--db" if url else ("db_url file" if (Path(study_dir) / "db_url").is_file() else "store")
        url = resolve_url(study_dir, url)
        parsed = identity.parse_url(url, f"{Path(study_dir) / 'db_url'}" if source == "db_url file" else source)
        key = identity.store_key(Path(study_dir), parsed)
        known = identity.recorded(Path(study_dir)).get(key)
        identity.check_file_before_open(Path(study_dir), parsed, key)
        shown = parsed.render_as_string(hide_password=True).split("@")[-1]
        engine = make_engine(url)
        try:
            if known is not None and not inspect(engine).has_table("alembic_version"):
                raise identity.missing_store(Path(study_dir), key, shown)
            migrate(engine)
        except StudyError:
            engine.dispose()
            raise
        except Exception as err:  # connection refused, permissions, ...
            engine.dispose()
            raise StudyError(
                [f"{shown}: cannot open the study store: {err.__class__.__name__}: {str(err).splitlines()[0]}"]
            ) from err
        store = cls(engine, url, study_dir)
        try:
            store._set_up(Path(study_dir), known)
        except BaseException:
            store.close()
            raise
        if known is None:
            identity.record(Path(study_dir), key, store.store_id)
        return store

    def _set_up(self, study_dir: Path, known: str | None) -> None:
        """First open: give the store a UUID and seal what is already in it (the coverage baseline)."""
        for attempt in range(3):
            try:
                with self.transaction() as s:
                    audit.lock_head(s)
                    row = s.get(Meta, "store_id")
                    if row is None:
                        present = set(inspect(s.connection()).get_table_names())
                        self.store_id = str(uuid.uuid4())
                        s.add(Meta(key="store_id", value=self.store_id))
                        s.add(LockoutRow(who="admin", failures=0))
                        protocol = study_dir / "study.toml"
                        if protocol.is_file():
                            s.add(Meta(key="protocol_sha256", value=hashlib.sha256(protocol.read_bytes()).hexdigest()))
                        s.flush()
                        s.info.pop(coverage._PENDING, None)  # the baseline seals everything at once
                        audit.append(
                            s,
                            utcnow(),
                            "store",
                            audit.BASELINE,
                            {"store_id": self.store_id, "_rows": coverage.snapshot(s, present | {"meta"})},
                        )
                    else:
                        self.store_id = row.value
                break
            except IntegrityError:  # another process set the store up at the same moment
                if attempt == 2:
                    raise
        if known is not None and known != self.store_id:
            raise StudyError(
                [
                    f"{self.url.split('@')[-1]}: this is store {self.store_id}, but the study folder "
                    f"recorded store {known}; the store was replaced. Restore the original, or remove "
                    f"{study_dir / identity.IDENTITY_FILE} to use this one on purpose"
                ]
            )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        with self.Session.begin() as session:
            yield session

    # -- study facts ------------------------------------------------------
    def check_meta(self, facts: dict[str, str]) -> list[str]:
        """Record study facts on first open; return the ones that changed since."""
        changed = []
        with self.transaction() as s:
            for key, value in facts.items():
                row = s.get(Meta, key)
                if row is None:
                    s.add(Meta(key=key, value=value))
                elif row.value != value:
                    changed.append(f"{key}: stored {row.value!r}, protocol now says {value!r}")
        return changed

    # -- admin password ---------------------------------------------------
    def set_admin_password(self, password: str, actor: str = "admin", current: str | None = None) -> None:
        """Set (or change) the study's admin password, kept as a scrypt hash.

        Changing an existing password needs the ``current`` one; the first
        password is set by the study's creator (``new``, the wizard) or, for a
        study made before that was required, by ``readerstudy admin-password``
        from the study's computer (audited as the first password).
        """
        problem = secret_problem(password, "admin password")
        if problem:
            raise StudyError([problem])
        if len(password) < 6:
            raise StudyError(["admin password: must have at least 6 characters"])
        new_hash = hash_secret(password)
        with self.transaction() as s:
            row = s.execute(select(Meta).where(Meta.key == "admin_password").with_for_update()).scalar_one_or_none()
            refused = row is not None and (current is None or not verify_secret(current, row.value))
            if refused:
                audit.append(s, utcnow(), actor, "admin.password_refused", {"reason": "current password wrong"})
            elif row is None:
                s.add(Meta(key="admin_password", value=new_hash))
                audit.append(s, utcnow(), actor, "admin.password_set", {"first": True})
            else:
                row.value = new_hash
                audit.append(s, utcnow(), actor, "admin.password_set", {"first": False})
        if refused:
            raise StudyError(["admin password: the current admin password is wrong; it was not changed"])

    def has_admin_password(self) -> bool:
        with self.Session() as s:
            return s.get(Meta, "admin_password") is not None

    def check_admin_password(self, password: str) -> bool:
        """A plain check with no side effects (no lock-out): use ``admin_login`` for a login."""
        with self.Session() as s:
            row = s.get(Meta, "admin_password")
            return row is not None and verify_secret(password, row.value)

    def admin_login(self, password: str, via: str = "app") -> None:
        """Log in as the study admin, or raise StudyError with the message to show.

        Five wrong passwords in a row lock the admin out for five minutes; every
        failure, lock-out and success is an audit row.  The counter row is locked
        (SELECT ... FOR UPDATE) so parallel guesses are all counted.
        """
        problem = secret_problem(password, "admin password")
        if problem:
            raise StudyError([problem])
        with self.Session() as s:
            stored = s.get(Meta, "admin_password")
        if stored is None:
            raise StudyError(
                [
                    "This study has no admin password yet. Set one on the study's computer with "
                    "`readerstudy admin-password STUDY_DIR`."
                ]
            )
        right = verify_secret(password, stored.value)  # slow (scrypt): outside the lock
        now = utcnow()
        with self.transaction() as s:
            row = s.execute(select(LockoutRow).where(LockoutRow.who == "admin").with_for_update()).scalar_one_or_none()
            if row is None:
                row = LockoutRow(who="admin", failures=0)
                s.add(row)
                s.flush()
            if row.locked_until is not None and row.locked_until > now:
                wait = int((row.locked_until - now).total_seconds()) + 1
                audit.append(s, now, "admin", "admin.login_refused", {"via": via, "reason": "locked"})
                message = f"Too many wrong admin passwords. Try again in {wait} s."
            elif right:
                row.failures, row.locked_until = 0, None
                audit.append(s, now, "admin", "admin.login", {"via": via})
                return
            else:
                row.failures += 1
                audit.append(s, now, "admin", "admin.login_failed", {"via": via, "failures": row.failures})
                message = "Wrong admin password."
                if row.failures >= MAX_ADMIN_TRIES:
                    row.failures, row.locked_until = 0, now + ADMIN_LOCKOUT
                    audit.append(s, now, "admin", "admin.locked", {"seconds": ADMIN_LOCKOUT.total_seconds()})
                    message = (
                        f"Wrong admin password. Too many tries: locked for {int(ADMIN_LOCKOUT.total_seconds())} s."
                    )
        raise StudyError([message])

    # -- readers ----------------------------------------------------------
    def reader_code_problem(self, code: str) -> str | None:
        """Why ``code`` cannot be a new reader's code (None when it can): the rules of
        ``code_problem``, no space anywhere, and no code equal to an existing one ignoring
        case (sign-in is exact, so ``SPEC2`` next to ``spec2`` would be two readers in the
        statistics).  Codes enrolled before these rules stay as they are."""
        code = code.strip()
        problem = code_problem(code)
        if problem:
            return problem
        if " " in code:
            return f"reader code {code!r}: must not contain spaces (e.g. {code.replace(' ', '')!r})"
        with self.Session() as s:
            codes = s.execute(select(ReaderRow.code).order_by(ReaderRow.id)).scalars().all()
        if code in codes:
            return f"reader {code}: already exists"
        same = next((c for c in codes if code_key(c) == code_key(code)), None)
        if same is not None:
            return (
                f"reader {code}: the code {same!r} exists already; codes that differ only in "
                "upper/lower case or spaces would count as two readers"
            )
        return None

    def reader_code_collisions(self) -> list[str]:
        """Warnings naming each pair of enrolled codes that differ only in case or spaces
        (possible in a store made before such codes were refused); [] when there is none."""
        with self.Session() as s:
            codes = s.execute(select(ReaderRow.code).order_by(ReaderRow.id)).scalars().all()
        return code_collisions(list(codes))

    def add_reader(self, code: str, group: str, pin: str, actor: str = "admin") -> ReaderInfo:
        code = code.strip()
        problem = (
            self.reader_code_problem(code)
            or (code_problem(group, "reader group") if group else None)
            or secret_problem(pin, f"reader {code}: PIN")
        )
        if problem:
            raise StudyError([problem])
        if len(pin) < 4:
            raise StudyError([f"reader {code}: PIN must have at least 4 characters"])
        pin_hash = hash_secret(pin)
        try:
            with self.transaction() as s:
                now = utcnow()
                s.add(ReaderRow(code=code, group=group, pin_hash=pin_hash, failed_pins=0, created_at=now))
                s.flush()
                audit.append(s, now, actor, "reader.added", {"code": code, "group": group})
        except IntegrityError:
            raise StudyError([f"reader {code}: already exists"]) from None
        return ReaderInfo(code, group)

    def readers(self) -> list[ReaderInfo]:
        with self.Session() as s:
            rows = s.execute(select(ReaderRow).order_by(ReaderRow.id)).scalars().all()
            return [ReaderInfo(r.code, r.group) for r in rows]

    # -- AI outputs -------------------------------------------------------
    def put_ai_output(self, out: AIOutput) -> None:
        payload = {
            "labels": list(out.labels),
            "probabilities": [float(x) for x in out.probabilities],
            "value": out.value,
            "interval": list(out.interval) if out.interval else None,
            "predicted": out.predicted,
            "score": None if out.score != out.score else float(out.score),
            "cam_method": out.cam_method,
            "versions": dict(out.versions),
            "threshold": out.threshold,
        }
        if out.threshold_rule:
            payload["threshold_rule"] = out.threshold_rule
        if out.positive:
            payload["positive"] = list(out.positive)
        if out.cam_target:
            payload["cam_target"] = out.cam_target
        if out.measurements:
            payload["measurements"] = {k: float(v) for k, v in out.measurements.items()}
        if out.fields:  # a specimen: per-field scores (their CAMs are in ``cams``) and how they combine
            payload["aggregate"] = out.aggregate
            payload["fields"] = [
                {
                    "index": f.index,
                    "score": None if f.score != f.score else float(f.score),
                    "probabilities": [float(x) for x in f.probabilities],
                    "predicted": f.predicted,
                }
                for f in out.fields
            ]
        with self.transaction() as s:
            old = s.execute(
                select(AIOutputRow).where(AIOutputRow.case_id == out.case_id, AIOutputRow.model_id == out.model_id)
            ).scalar_one_or_none()
            if old is not None:
                s.delete(old)
                s.flush()
            s.add(
                AIOutputRow(
                    case_id=out.case_id,
                    model_id=out.model_id,
                    head=out.head,
                    payload=json.dumps(payload),
                    cams=_pack_cams(out.cams),
                    created_at=utcnow(),
                )
            )
            audit.append(
                s,
                utcnow(),
                self.actor,
                "ai.output_stored",
                {"case": out.case_id, "model": out.model_id, "replaced": old is not None},
            )

    def ai_output_case_ids(self, model_id: str) -> set[str]:
        with self.Session() as s:
            return set(s.execute(select(AIOutputRow.case_id).where(AIOutputRow.model_id == model_id)).scalars())

    def ai_output(self, case_id: str, model_id: str | None = None) -> AIOutput | None:
        """The output of ``model_id`` for a case, or the newest of any model."""
        q = select(AIOutputRow).where(AIOutputRow.case_id == case_id)
        if model_id is not None:
            q = q.where(AIOutputRow.model_id == model_id)
        with self.Session() as s:
            row = s.execute(
                q.order_by(AIOutputRow.created_at.desc(), AIOutputRow.id.desc()).limit(1)
            ).scalar_one_or_none()
            return None if row is None else _to_output(row)

    def ai_outputs(self, with_cams: bool = False) -> dict[str, AIOutput]:
        """Newest output per case (CAMs only when asked: they are large)."""
        cols = [
            AIOutputRow.case_id,
            AIOutputRow.model_id,
            AIOutputRow.head,
            AIOutputRow.payload,
            AIOutputRow.cams if with_cams else AIOutputRow.id,
        ]
        with self.Session() as s:
            rows = s.execute(select(*cols).order_by(AIOutputRow.created_at, AIOutputRow.id)).all()
        result = {}
        for case_id, model_id, head, payload, cams in rows:
            row = AIOutputRow(
                case_id=case_id, model_id=model_id, head=head, payload=payload, cams=cams if with_cams else None
            )
            result[case_id] = _to_output(row)
        return result

    # -- audit ------------------------------------------------------------
    def audit(self, actor: str, action: str, payload: dict) -> None:
        with self.transaction() as s:
            audit.append(s, utcnow(), actor, action, payload)

    def anchors(self, outputs: list[Path] = ()) -> list[audit.Anchor]:
        """This store's anchors from the study folder's anchor file and from the given output files."""
        if self.study_dir is None or not self.store_id:
            return []
        return anchor.read(self.study_dir, self.store_id) + anchor.in_outputs(list(outputs), self.store_id)

    def verify_chain(self, outputs: list[Path] = ()) -> audit.ChainCheck:
        """The chain, every covered row, and every anchor (see ``anchors``)."""
        with self.Session() as s:
            return audit.verify(s, self.anchors(outputs))

    def anchor_line(self, where: str) -> str:
        """The chain's row count and head hash now, as one anchor line (nothing written)."""
        with self.Session() as s:
            last = s.execute(select(AuditRow.id, AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).first()
        rows, head = (last[0], last[1]) if last else (0, audit.GENESIS)
        return anchor.format_line(self.store_id, rows, head, where)

    def write_anchor(self, where: str) -> str:
        """Append the chain's row count and head hash to the study's anchor file; return the line.

        Call it where results leave the store (report, export) and at a session's end,
        and write the returned line into the outputs too.
        """
        line = self.anchor_line(where)
        if self.study_dir is not None:
            anchor.append(self.study_dir, line)
        return line

    def require_intact(self) -> None:
        """StudyError ``AUDIT CHAIN BROKEN at row N: ...`` unless the chain, rows and anchors all check out,
        and StudyError naming the file when the truth differs from its seal (``study.truthseal``).

        Results (report, exports, the Results tab) are never computed from a tampered store or a changed truth."""
        check = self.verify_chain()
        if not check.ok:
            where = f" at row {check.first_broken}" if check.first_broken is not None else ""
            raise StudyError([f"AUDIT CHAIN BROKEN{where}: {check.reason}; no results from a tampered store"])
        if self.study_dir is not None:  # ... nor from a truth that changed since it was sealed
            from study.truthseal import require_sealed

            require_sealed(self, self.study_dir)

    def audit_rows(self) -> list[dict]:
        from study.store.schema import AuditRow

        with self.Session() as s:
            rows = s.execute(select(AuditRow).order_by(AuditRow.id)).scalars().all()
            return [
                {
                    "id": r.id,
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "action": r.action,
                    "payload": r.payload,
                    "hash": r.hash,
                }
                for r in rows
            ]


ANCHOR_OUTPUT = "AUDIT_ANCHOR.txt"


def anchor_outputs(study_dir: str | Path, url: str | None, out_dir: str | Path) -> Path:
    """Anchor the chain for a report/export written to ``out_dir``: one line appended to the study's
    ``readerstudy.anchors`` and the same line in ``out_dir/AUDIT_ANCHOR.txt`` (``status --check``
    compares both with the store).  Returns the file written."""
    store = Store.open(study_dir, url)
    try:
        line = store.write_anchor(f"report {Path(out_dir).resolve()}")
    finally:
        store.close()
    path = Path(out_dir) / ANCHOR_OUTPUT
    path.write_text(line + "\n", encoding="utf-8")
    return path


def reads_table(study_dir: str | Path, url: str | None = None):
    """Long-format reads (latest correction of each read) for statistics."""
    from study.store.tables import reads_frame

    return reads_frame(study_dir, url)


def ai_table(study_dir: str | Path, url: str | None = None):
    """Per case: the AI's rating (score) and decision, for AI-as-a-reader."""
    from study.store.tables import ai_frame

    return ai_frame(study_dir, url)


def field_views_table(study_dir: str | Path, url: str | None = None):
    """One row per opening of a specimen's field, attributed to its read (issue 17)."""
    from study.store.tables import field_views_frame

    return field_views_frame(study_dir, url)
