"""`readerstudy status STUDY_DIR [--json]`: progress, washout, audit chain."""

from __future__ import annotations

import json
from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.engine import StudyEngine


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--json", action="store_true")
    add_db_argument(parser)


def study_status(engine: StudyEngine) -> dict:
    now = engine.clock()
    readers = []
    for r in engine.store.readers():
        sessions = []
        for info in engine.sessions(r.code):
            remaining = None
            if info.opens_at is not None:
                remaining = max(0.0, round((info.opens_at - now).total_seconds() / 86400, 2))
            sessions.append({"session": info.index, "name": info.name, "state": info.state, "done": info.done,
                             "total": info.total, "opens_at": info.opens_at.isoformat() if info.opens_at else None,
                             "washout_days_remaining": remaining})
        readers.append({"reader": r.code, "group": r.group, "sessions": sessions})
    chain = engine.store.verify_chain()
    return {"study": engine.protocol.study_id, "design": engine.protocol.design, "cases": len(engine.cases),
            "readers": readers,
            "audit": {"ok": chain.ok, "rows": chain.rows, "first_broken": chain.first_broken, "reason": chain.reason}}


@user_errors
def run(args) -> int:
    engine = StudyEngine.open(args.study_dir, args.db)
    try:
        status = study_status(engine)
    finally:
        engine.close()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(f"{status['study']} ({status['design']}, {status['cases']} cases)")
        for r in status["readers"]:
            for s in r["sessions"]:
                extra = f", opens {s['opens_at'][:10]} ({s['washout_days_remaining']} days)" if s["opens_at"] else ""
                print(f"  {r['reader']:<10} {r['group']:<12} {s['name']:<10} {s['state']:<12} {s['done']}/{s['total']}{extra}")
        a = status["audit"]
        print(f"audit chain: {'OK' if a['ok'] else 'BROKEN'} ({a['rows']} rows)"
              + ("" if a["ok"] else f": first broken row {a['first_broken']}: {a['reason']}"))
    return 0 if status["audit"]["ok"] else 1
