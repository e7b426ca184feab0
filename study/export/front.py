"""What a report describes, in one place for every task kind: the report's front table and
results.json's ``"study"`` block.

A paper's methods section cites these facts: the study id and title, the design (modes, washout,
readers x cases crossing), the task (kind, question, labels, positive classes), readers and cases,
the randomization seed, the AI (model name, weights sha256, operating point and how it was chosen),
the software version and the date of export.  :func:`report_facts` gathers them from the study
folder and its store; :func:`front_rows` turns them into the PDF's "Item / Value" rows; and
:func:`front_matter` draws title and table onto a :class:`study.export.pdf.Flow` page.  Binary,
multiclass, numeric, grade-distribution, specimen and region reports all call these, so the
same fact reads the same way in every report.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from study.export.wording import plural

if TYPE_CHECKING:
    import pandas as pd

    from study.export.pdf import Flow

SOFTWARE = "readerstudy"
# What the study's seed decides (study.order): each reader's case order per session, and in a
# crossover which half of the cases each reader reads aided first.
SEEDED = {
    "sequential": "case order of every reader and session",
    "concurrent": "case order of every reader and session",
    "crossover": "case order of every reader and session; the crossover's case halves",
}


def software_version() -> str:
    """The installed readerstudy version ("unknown" when run from a tree that was never installed)."""
    try:
        return importlib.metadata.version(SOFTWARE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def design_facts(protocol) -> dict:
    """``{"name", "modes", "washout_days", "crossing", "text"}`` of ``study.protocol.Protocol``.

    Every enrolled reader reads every case in every mode (``study.engine``): the readers x cases
    design is fully crossed; the statistics say when the stored reads fall short of it."""
    modes = list(protocol.modes)
    text = {
        "sequential": f"sequential: unaided, then aided after a {protocol.washout_days}-day washout",
        "crossover": (
            "crossover: each case read once per mode over two sessions, mode order balanced across readers"
            + (f", {protocol.washout_days}-day washout" if protocol.washout_days else "")
        ),
        "concurrent": "concurrent: aided reads only",
    }.get(protocol.design, protocol.design)
    crossing = "fully crossed (every reader reads every case in every mode)"
    return {
        "name": protocol.design,
        "modes": modes,
        "washout_days": int(protocol.washout_days) if protocol.design != "concurrent" else 0,
        "crossing": crossing,
        "text": f"{text}; {crossing}",
    }


def task_facts(task) -> dict:
    """The task as results.json states it (``study.protocol.Task``), with ``text`` for the PDF."""
    facts: dict = {"kind": task.kind, "question": task.question}
    if task.kind == "grade_distribution":
        facts["grades"] = list(task.grades)
    elif task.kind == "numeric":
        facts |= {"unit": task.unit, "min": task.min, "max": task.max}
    elif task.kind == "region":
        facts |= {"region": task.region, "spacing_mm": task.spacing_mm}
        if task.also:
            facts |= {"also": task.also, "also_question": task.also_question, "labels": list(task.labels)}
    else:
        facts["labels"] = list(task.labels)
    if task.kind == "binary" and len(task.labels) == 2:
        facts["positive"] = [task.labels[1]]
    elif task.kind == "multiclass":
        facts["positive"] = list(task.positive)
    if task.kind == "binary" or (task.kind == "region" and task.also):
        facts["confidence"] = task.confidence
    facts["text"] = _task_text(facts)
    return facts


def _task_text(t: dict) -> str:
    kind = t["kind"].replace("_", " ")
    parts = [kind + (f': "{t["question"]}"' if t.get("question") else "")]
    if t.get("labels") and t["kind"] != "region":
        parts.append("labels " + ", ".join(t["labels"]))
    if t.get("positive"):
        parts.append("positive " + ", ".join(t["positive"]))
    if t.get("grades"):
        parts.append("grades " + ", ".join(t["grades"]))
    if t["kind"] == "numeric":
        span = f" from {t['min']:g} to {t['max']:g}" if t.get("min") is not None and t.get("max") is not None else ""
        parts.append(f"value in {t['unit'] or 'no unit'}{span}")
    if t["kind"] == "region":
        parts.append(f"outline the {t['region'] or 'region'}")
        if t.get("also"):
            parts.append(f'also "{t["also_question"]}" ({", ".join(t["labels"])})')
    if t.get("confidence"):
        parts.append(f"confidence on {t['confidence']}")
    return "; ".join(parts)


def _model_toml(study_dir: Path, spec: str | None) -> tuple[dict, list[str]]:
    """([model] and [training] of the study's model.toml merged as ``{"model", "training", "sha256"}``,
    problems).  A spec that cannot be read is named in the problems, never silently skipped."""
    if not spec:
        return {}, []
    path = Path(study_dir) / spec
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [f"{path}: model.toml not found: the AI is described by its stored outputs only"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{path}: model.toml unreadable ({exc}): the AI is described by its stored outputs only"]
    members = [m for m in doc.get("members", []) if isinstance(m, dict)]
    if len(members) == 1:
        weights = str(members[0].get("sha256", ""))
    else:  # an ensemble's id, as inference.spec.ModelSpec.model_id computes it
        text = "".join(f"{m.get('role', '')}:{m.get('sha256', '')}\n" for m in members)
        weights = hashlib.sha256(text.encode()).hexdigest() if members else ""
    facts = {"model": doc.get("model", {}), "training": doc.get("training", {}), "sha256": weights}
    return facts | {"members": len(members)}, []


def ai_facts(study_dir: Path, protocol, outputs, operating_point: dict | None) -> dict | None:
    """The AI a report describes, or None when the study has neither a model nor stored outputs.

    ``outputs``: the stored ``study.aioutput.AIOutput`` values; ``operating_point``: the cut the
    report's statistics used (``{"value", "source", "positive"?}``: results.json's
    ``thresholds.AI``), None when the AI's decision is not cut from a score (argmax, a value)."""
    outputs = list(outputs)
    if not protocol.model_spec and not outputs:
        return None
    spec, problems = _model_toml(study_dir, protocol.model_spec)
    model = spec.get("model", {})
    ids: dict[str, int] = {}
    for o in outputs:
        ids[o.model_id] = ids.get(o.model_id, 0) + 1
    versions = {k: v for o in outputs[:1] for k, v in sorted(o.versions.items())}
    facts: dict = {
        "spec": protocol.model_spec or "",
        "name": str(model.get("name", "")),
        "architecture": str(model.get("architecture", "")),
        "head": str(model.get("head", "")) or (outputs[0].head if outputs else ""),
        "weights_sha256": spec.get("sha256", "") or (next(iter(ids)) if len(ids) == 1 else ""),
        "members": spec.get("members", 0),
        "outputs": {"cases": len(outputs), "model_ids": ids},
        "versions": versions,
        "operating_point": None,
        "problems": problems,
    }
    if spec.get("sha256") and ids and set(ids) != {spec["sha256"]}:
        facts["problems"].append(
            f"the stored outputs come from weights {', '.join(sorted(ids))}, not the sha256 "
            f"{spec['sha256']} of the model.toml named now ({protocol.model_spec})"
        )
    if operating_point is not None:
        point = dict(operating_point)
        value, threshold = point.get("value"), model.get("threshold")
        training = spec.get("training", {})
        if value is not None and isinstance(threshold, int | float) and float(threshold) == float(value):
            rule = str(model.get("threshold_rule", ""))
            n, seed = training.get("n_validation"), training.get("validation_seed")
            if rule and n:
                point["chosen_on"] = f"chosen by {rule} on a validation study of {n} cases" + (
                    f" (seed {seed})" if seed is not None else ""
                )
        facts["operating_point"] = point
    return facts


def reading_facts(stored: pd.DataFrame | None) -> dict:
    """Readers and cases with current reads, and reads per mode, from reads.csv's table
    (``study.export.stored_reads.stored_reads_frame``)."""
    if stored is None or not len(stored):
        return {"readers": 0, "cases": 0, "reads": 0, "reads_by_mode": {}}
    cur = stored[stored["current"].astype(bool)] if "current" in stored.columns else stored
    by_mode = {str(m): int(n) for m, n in cur.groupby("mode").size().items()} if "mode" in cur.columns else {}
    return {
        "readers": int(cur["reader"].nunique()),
        "cases": int(cur["case_id"].nunique()),
        "reads": len(cur),
        "reads_by_mode": by_mode,
    }


def report_facts(
    study_dir: str | Path,
    stored: pd.DataFrame | None = None,
    url: str | None = None,
    operating_point: dict | None = None,
    outputs=None,
    now: datetime | None = None,
) -> dict:
    """Every fact of the report's front table, JSON-ready; results.json carries it as ``"study"``.

    ``stored``: reads.csv's table; ``operating_point``: the AI's cut the statistics used
    (results.json's ``thresholds.AI``); ``outputs``: the stored AI outputs (read from the store when
    None).  Raises ``StudyError`` for a protocol or cases table that cannot be read."""
    from study.cases import load_cases
    from study.protocol import load_protocol
    from study.store import Store

    study_dir = Path(study_dir)
    protocol = load_protocol(study_dir)
    n_cases = len(load_cases(study_dir, protocol, check_media=False))
    store = Store.open(study_dir, url)
    try:
        readers = store.readers()
        if outputs is None:
            outputs = store.ai_outputs()
        waivers = washout_waivers(store.audit_rows())
    finally:
        store.close()
    outputs = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
    groups: dict[str, int] = {}
    for r in readers:
        groups[r.group or "ungrouped"] = groups.get(r.group or "ungrouped", 0) + 1
    toml = study_dir / "study.toml"
    return {
        "study_id": protocol.study_id,
        "title": protocol.title or study_dir.name,
        "protocol_file": toml.name,
        "protocol_sha256": hashlib.sha256(toml.read_bytes()).hexdigest(),
        "design": design_facts(protocol) | {"washout_waived": waivers},
        "task": task_facts(protocol.task),
        "mode": protocol.mode,
        "readers": {"enrolled": len(readers), "groups": groups},
        "cases": {"in_study": n_cases},
        "read": reading_facts(stored),
        "seed": int(protocol.seed),
        "ai": ai_facts(study_dir, protocol, outputs, operating_point),
        **export_facts(now),
    }


def washout_waivers(audit_rows: list[dict]) -> list[dict]:
    """The audited washout overrides (``washout.override``: a session opened before its washout
    ended), as ``{"reader", "session", "reason", "by", "at"}``: a deviation from the design that
    a methods section must state."""
    out = []
    for r in audit_rows:
        if r["action"] != "washout.override":
            continue
        p = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]  # canonical JSON
        out.append(
            {
                "reader": p.get("reader"),
                "session": p.get("session"),
                "reason": p.get("reason", ""),
                "by": r["actor"],
                "at": r["at"],
            }
        )
    return out


def operating_point_text(point: dict | None) -> str:
    """``score >= 0.376 calls CIN2+ (the model's operating point, youden; chosen ...)``; "" for None."""
    if not point:
        return ""
    if point.get("value") is None:
        return str(point.get("source", ""))
    called = " or ".join(point.get("positive") or ()) or "positive"
    how = "; ".join(x for x in (point.get("source", ""), point.get("chosen_on", "")) if x)
    return f"score >= {point['value']:g} calls {called}" + (f" ({how})" if how else "")


def front_rows(facts: dict) -> list[list[str]]:
    """The front table's ``[item, value]`` rows, in the order a methods section cites them."""
    read = facts.get("read") or {}
    groups = facts["readers"]["groups"]
    readers = plural(facts["readers"]["enrolled"], "reader") + " enrolled"
    if len(groups) > 1 or (groups and next(iter(groups)) not in ("all", "ungrouped")):
        readers += " (" + ", ".join(f"{n} {g}" for g, n in groups.items()) + ")"
    readers += f"; {read.get('readers', 0)} with reads"
    cases = f"{facts['cases']['in_study']} in the study; {read.get('cases', 0)} read"
    counts = read.get("reads_by_mode") or {}
    order = [m for m in facts["design"]["modes"] if m in counts] + [
        m for m in counts if m not in facts["design"]["modes"]
    ]
    by_mode = ", ".join(f"{counts[m]} {m}" for m in order)
    rows = [
        ["Study", f"{facts['study_id']}: {facts['title']}"],
        ["Design", facts["design"]["text"] + ("; read as a triage queue" if facts.get("mode") == "triage" else "")],
        *(
            [["Washout waived", "; ".join(f"{w['reader']} session {w['session']} ({w['reason']})" for w in waived)]]
            if (waived := facts["design"].get("washout_waived"))
            else []
        ),
        ["Task", facts["task"]["text"]],
        ["Readers", readers],
        ["Cases", cases],
        ["Reads", f"{read.get('reads', 0)} current" + (f" ({by_mode})" if by_mode else "")],
        ["Randomization seed", f"{facts['seed']} ({SEEDED.get(facts['design']['name'], SEEDED['sequential'])})"],
    ]
    ai = facts.get("ai")
    if ai is None:
        rows.append(["AI model", "none attached"])
    else:
        name = ai["name"] or ai["spec"] or "unnamed model"
        arch = f" ({ai['architecture']})" if ai["architecture"] and ai["architecture"] not in name else ""
        rows.append(["AI model", f"{name}{arch}; {ai['outputs']['cases']} cases with stored outputs"])
        sha = ai["weights_sha256"]
        is_sha = len(sha) == 64 and all(c in "0123456789abcdef" for c in sha.lower())
        ensemble = f" (ensemble of {ai['members']}: sha256 of its members' hashes)" if ai.get("members", 0) > 1 else ""
        rows.append(["AI weights sha256" if is_sha else "AI model id", (sha or "unknown") + ensemble])
        if ai["versions"]:
            libs = ", ".join(f"{k} {v}" for k, v in ai["versions"].items() if k not in ("python", SOFTWARE))
            rows.append(["AI computed with", libs])
        if ai["operating_point"]:
            rows.append(["AI operating point", operating_point_text(ai["operating_point"])])
        for problem in ai["problems"]:
            rows.append(["AI note", problem])
    rows.append(["Protocol file", f"study.toml sha256 {facts['protocol_sha256']}"])
    return rows


def export_facts(now: datetime | None = None) -> dict:
    """``{"software", "exported_at"}``: what wrote a report and when (UTC, to the second)."""
    return {
        "software": {SOFTWARE: software_version(), "python": platform.python_version()},
        "exported_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def exported_row(facts: dict) -> list[str]:
    """``["Exported", "2026-12-07 23:59:03 UTC by readerstudy 0.1.0 (Python 3.12.3)"]``."""
    soft = facts["software"]
    when = facts["exported_at"].replace("T", " ").replace("Z", " UTC")
    return ["Exported", f"{when} by {SOFTWARE} {soft[SOFTWARE]} (Python {soft['python']})"]


def front_matter(
    flow: Flow,
    title: str,
    facts: dict | None,
    extra: list[list[str]] = (),
    subtitle: str = "",
    notice: str = "",
    size: float = 20,
) -> None:
    """The report's first lines on ``flow``: the title, a ``notice`` in large type (an interim
    report says so before anything else), an italic ``subtitle`` and the "Study" table:
    :func:`front_rows` of ``facts`` (``report_facts``; None for a reads table that is no stored
    study), the report kind's own ``extra`` rows, and the software and date of export last."""
    import textwrap

    flow.title(title, size=size)
    if notice:
        flow.para(notice, size=10, width=90)
    if subtitle:
        flow.para(subtitle, style="italic")
    full = facts is not None and "study_id" in facts
    rows = (front_rows(facts) if full else []) + [list(r) for r in extra]
    rows.append(exported_row(facts if facts and "exported_at" in facts else export_facts()))
    flow.heading("Study")
    wrapped = [[a, "\n".join(textwrap.wrap(b, 80)) or b] for a, b in rows if b]
    flow.table(["Item", "Value"], wrapped, widths=[0.22, 0.78], size=8, align="left")
    flow.space()
