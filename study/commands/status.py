"""`readerstudy status STUDY_DIR [--json] [--check OUTPUT ...]`: progress, washout, audit chain.

The chain check covers every sealed row, the anchors in the study folder's
``readerstudy.anchors`` and in any output files or folders given with
``--check``, whether ``study.toml`` changed since the store was first
opened, and whether the truth (``cases.csv``'s truth, truth masks) changed
since it was sealed (``study.truthseal``): each changed file and case.  Exit code 1 when the chain is broken or the truth changed.  No admin password needed:
status reads only, so an auditor can run it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.engine import StudyEngine
from study.truthseal import TruthChange


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--check",
        nargs="+",
        type=Path,
        default=[],
        metavar="OUTPUT",
        help="report or export files/folders whose audit anchors must match the store",
    )
    add_db_argument(parser)


def _protocol_state(engine: StudyEngine) -> str:
    from study.store.schema import Meta

    with engine.store.Session() as s:
        row = s.get(Meta, "protocol_sha256")
    if row is None:
        return "not recorded (store opened before the protocol hash was kept)"
    now = hashlib.sha256((engine.study_dir / "study.toml").read_bytes()).hexdigest()
    return "unchanged since first open" if now == row.value else "CHANGED since the store was first opened"


def _truth_state(engine: StudyEngine) -> dict:
    """The truth against its seal: state text, the seal's hash and time, and every changed case."""
    t = engine.truth
    if t is None:  # an engine built without StudyEngine.open
        return {"state": "not checked", "changes": []}
    if t.ok:
        text = f"unchanged since sealed {t.sealed_at[:19]} UTC"
        if t.event == "sealed" and t.reads_before_seal:
            text = f"sealed now, as found ({t.reads_before_seal} reads were stored before the truth was sealed)"
        elif t.event:
            text = f"{t.event} now ({t.sealed_at[:19]} UTC)"
        if t.corrections:
            text += f"; {t.corrections} recorded correction(s), the last at that time (audit: truth.corrected)"
    else:
        text = f"CHANGED since sealed {t.sealed_at[:19]} UTC: {', '.join(t.files())}"
    return {
        "state": text,
        "sha256": t.sha256,
        "sealed_at": t.sealed_at,
        "corrections": t.corrections,
        "changes": [c.as_dict() for c in t.changes],
    }


def study_status(engine: StudyEngine, outputs: list[Path] = ()) -> dict:
    # The chain first: a store with unreadable values must give BROKEN, not a traceback below.
    chain = engine.store.verify_chain(list(outputs))
    audit = {
        "ok": chain.ok,
        "rows": chain.rows,
        "first_broken": chain.first_broken,
        "reason": chain.reason,
        "anchors": len(engine.store.anchors(list(outputs))),
        "protocol": _protocol_state(engine),
        "truth": _truth_state(engine),
    }
    try:
        readers = _readers(engine)
    except (ValueError, TypeError, OverflowError) as err:
        if chain.ok:
            raise
        readers = []
        audit["readers_unreadable"] = f"{err.__class__.__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    ai = engine.ai_readiness()
    return {
        "study": engine.protocol.study_id,
        "design": engine.protocol.design,
        "cases": len(engine.cases),
        "ai": {
            "model": engine.model_spec(),
            "stored": ai.stored,
            "failed": ai.failed,
            "total": ai.total,
            "ready": ai.ready,
            # Why sessions with aided cases cannot open (None: they can).
            "aided_closed": ai.closed_reason,
        },
        "readers": readers,
        # Codes that differ only in case or spaces (a store made before they were refused).
        "warnings": engine.store.reader_code_collisions(),
        "audit": audit,
    }


def _readers(engine: StudyEngine) -> list[dict]:
    now = engine.clock()
    readers = []
    for r in engine.store.readers():
        sessions = []
        for info in engine.sessions(r.code):
            remaining = None
            if info.opens_at is not None:
                remaining = max(0.0, round((info.opens_at - now).total_seconds() / 86400, 2))
            sessions.append(
                {
                    "session": info.index,
                    "name": info.name,
                    "state": info.state,
                    "done": info.done,
                    "total": info.total,
                    "opens_at": info.opens_at.isoformat() if info.opens_at else None,
                    "washout_days_remaining": remaining,
                    "ai_closed": engine.ai_closed_reason(info),
                }
            )
        readers.append({"reader": r.code, "group": r.group, "sessions": sessions})
    return readers


@user_errors
def run(args) -> int:
    engine = StudyEngine.open(args.study_dir, args.db)
    try:
        status = study_status(engine, args.check)
    finally:
        engine.close()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(f"{status['study']} ({status['design']}, {status['cases']} cases)")
        ai = status["ai"]
        if ai["aided_closed"]:  # every design has aided reads
            print(f"aided reads: closed, {ai['aided_closed']}")
        elif ai["model"]:
            print(f"aided reads: AI outputs for {ai['stored']} of {ai['total']} cases ({ai['failed']} unreadable)")
        for r in status["readers"]:
            for s in r["sessions"]:
                extra = f", opens {s['opens_at'][:10]} ({s['washout_days_remaining']} days)" if s["opens_at"] else ""
                if s["ai_closed"]:
                    extra += f", {s['ai_closed']}"
                print(
                    f"  {r['reader']:<10} {r['group']:<12} {s['name']:<10} {s['state']:<12} {s['done']}/{s['total']}{extra}"
                )
        for warning in status["warnings"]:
            print(f"warning: {warning}")
        a = status["audit"]
        if a.get("readers_unreadable"):
            print(f"  (progress cannot be shown: {a['readers_unreadable']})")
        print(
            f"audit chain: {'OK' if a['ok'] else 'BROKEN'} ({a['rows']} rows, {a['anchors']} anchors)"
            + ("" if a["ok"] else f": first broken row {a['first_broken']}: {a['reason']}")
        )
        print(f"protocol file: {a['protocol']}")
        print(f"truth: {a['truth']['state']}")
        for file in dict.fromkeys(c["file"] for c in a["truth"]["changes"]):
            changed = [c for c in a["truth"]["changes"] if c["file"] == file]
            print(f"  {file}: {len(changed)} case(s) changed")
            for c in changed:
                print(f"    {TruthChange(**c).text()}")
        if a["truth"]["changes"]:
            print(
                f"  results are refused until the file is restored or the change is recorded: "
                f'readerstudy truth-correct {args.study_dir} --reason "..."'
            )
    return 0 if status["audit"]["ok"] and not status["audit"]["truth"]["changes"] else 1
