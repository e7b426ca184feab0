"""The study store: readers, reads, AI outputs, leases and the audit log.

One SQLite file in the study folder by default; the same schema on
PostgreSQL for multi-workstation studies (``postgresql+psycopg://`` URL).
Only plain data leaves this package: dataclasses, AIOutput, DataFrames.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from study.aioutput import AIOutput
from study.errors import StudyError
from study.security import hash_secret, verify_secret
from study.store import audit
from study.store.db import default_url, make_engine, migrate
from study.store.schema import AIOutputRow, Meta, ReaderRow

__all__ = ["Store", "ReaderInfo", "reads_table", "ai_table", "resolve_url"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
        case_id=row.case_id, model_id=row.model_id, head=row.head,
        labels=tuple(p.get("labels", ())), probabilities=tuple(p.get("probabilities", ())),
        value=p.get("value"), interval=tuple(p["interval"]) if p.get("interval") else None,
        predicted=p.get("predicted", ""), score=float(p["score"]) if p.get("score") is not None else float("nan"),
        cams=_unpack_cams(row.cams), cam_method=p.get("cam_method", ""), versions=p.get("versions", {}),
    )


class Store:
    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.Session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, study_dir: str | Path, url: str | None = None) -> "Store":
        url = resolve_url(study_dir, url)
        engine = make_engine(url)
        try:
            migrate(engine)
        except Exception as err:  # connection refused, permissions, ...
            engine.dispose()
            raise StudyError([f"{url.split('@')[-1]}: cannot open the study store: {err.__class__.__name__}: {str(err).splitlines()[0]}"]) from err
        return cls(engine, url)

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
    def set_admin_password(self, password: str, actor: str = "admin") -> None:
        """Set (or change) the study's admin password, kept as a scrypt hash."""
        if len(password) < 6:
            raise StudyError(["admin password: must have at least 6 characters"])
        with self.transaction() as s:
            row = s.get(Meta, "admin_password")
            if row is None:
                s.add(Meta(key="admin_password", value=hash_secret(password)))
            else:
                row.value = hash_secret(password)
            audit.append(s, utcnow(), actor, "admin.password_set", {})

    def has_admin_password(self) -> bool:
        with self.Session() as s:
            return s.get(Meta, "admin_password") is not None

    def check_admin_password(self, password: str) -> bool:
        with self.Session() as s:
            row = s.get(Meta, "admin_password")
            return row is not None and verify_secret(password, row.value)

    # -- readers ----------------------------------------------------------
    def add_reader(self, code: str, group: str, pin: str, actor: str = "admin") -> ReaderInfo:
        code = code.strip()
        if not code:
            raise StudyError(["reader code: must not be empty"])
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
            "labels": list(out.labels), "probabilities": [float(x) for x in out.probabilities],
            "value": out.value, "interval": list(out.interval) if out.interval else None,
            "predicted": out.predicted, "score": None if out.score != out.score else float(out.score),
            "cam_method": out.cam_method, "versions": dict(out.versions),
        }
        with self.transaction() as s:
            old = s.execute(select(AIOutputRow).where(AIOutputRow.case_id == out.case_id,
                                                      AIOutputRow.model_id == out.model_id)).scalar_one_or_none()
            if old is not None:
                s.delete(old)
                s.flush()
            s.add(AIOutputRow(case_id=out.case_id, model_id=out.model_id, head=out.head,
                              payload=json.dumps(payload), cams=_pack_cams(out.cams), created_at=utcnow()))

    def ai_output_case_ids(self, model_id: str) -> set[str]:
        with self.Session() as s:
            return set(s.execute(select(AIOutputRow.case_id).where(AIOutputRow.model_id == model_id)).scalars())

    def ai_output(self, case_id: str, model_id: str | None = None) -> AIOutput | None:
        """The output of ``model_id`` for a case, or the newest of any model."""
        q = select(AIOutputRow).where(AIOutputRow.case_id == case_id)
        if model_id is not None:
            q = q.where(AIOutputRow.model_id == model_id)
        with self.Session() as s:
            row = s.execute(q.order_by(AIOutputRow.created_at.desc(), AIOutputRow.id.desc()).limit(1)).scalar_one_or_none()
            return None if row is None else _to_output(row)

    def ai_outputs(self, with_cams: bool = False) -> dict[str, AIOutput]:
        """Newest output per case (CAMs only when asked: they are large)."""
        cols = [AIOutputRow.case_id, AIOutputRow.model_id, AIOutputRow.head, AIOutputRow.payload,
                AIOutputRow.cams if with_cams else AIOutputRow.id]
        with self.Session() as s:
            rows = s.execute(select(*cols).order_by(AIOutputRow.created_at, AIOutputRow.id)).all()
        result = {}
        for case_id, model_id, head, payload, cams in rows:
            row = AIOutputRow(case_id=case_id, model_id=model_id, head=head, payload=payload,
                              cams=cams if with_cams else None)
            result[case_id] = _to_output(row)
        return result

    # -- audit ------------------------------------------------------------
    def audit(self, actor: str, action: str, payload: dict) -> None:
        with self.transaction() as s:
            audit.append(s, utcnow(), actor, action, payload)

    def verify_chain(self) -> audit.ChainCheck:
        with self.Session() as s:
            return audit.verify(s)

    def audit_rows(self) -> list[dict]:
        from study.store.schema import AuditRow

        with self.Session() as s:
            rows = s.execute(select(AuditRow).order_by(AuditRow.id)).scalars().all()
            return [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                     "payload": r.payload, "hash": r.hash} for r in rows]


def reads_table(study_dir: str | Path, url: str | None = None):
    """Long-format reads (latest correction of each read) for statistics."""
    from study.store.tables import reads_frame

    return reads_frame(study_dir, url)


def ai_table(study_dir: str | Path, url: str | None = None):
    """Per case: the AI's rating (score) and decision, for AI-as-a-reader."""
    from study.store.tables import ai_frame

    return ai_frame(study_dir, url)
