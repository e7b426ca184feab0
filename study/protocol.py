"""The study protocol: `study.toml`, read with tomllib into frozen dataclasses.

Every problem is reported as ``FILE: key: cause`` so a researcher can fix it
without reading code.  Example::

    [study]
    id = "uterine-sarcoma"
    title = "Uterine sarcoma vs leiomyoma on MRI"
    design = "sequential"        # sequential | crossover | concurrent
    washout_days = 28            # sequential and crossover
    seed = 20261124              # every random choice derives from it
    mode = "reading"             # reading | triage
    feedback = false             # show the reader their accuracy at the end
    show_timer = true
    time_limit_seconds = 0       # per case; 0 = none
    min_read_seconds = 2.0       # reading-time QC: reads faster than this are flagged in the report
    media_roots = ["../pacs-export"]  # folders outside the study that media may come from

    [readers]
    groups = ["specialist", "resident"]

    [task]
    kind = "binary"              # binary | multiclass | grade_distribution | numeric | region
    question = "Is the mass a sarcoma?"
    labels = ["leiomyoma", "sarcoma"]   # binary: negative, positive
    confidence = "0-100"         # binary only: "0-100" or "1-5"
    consistency = "warn"         # binary only: category vs likelihood contradicting
                                 # ("leiomyoma" at 75 %): "warn" (confirm, recorded) or "block"
    # multiclass:          labels = ["normal", "CIN1", "CIN2+"], positive = ["CIN2+"]
    # grade_distribution:  grades = ["A", "B", "C", "D", "E"]
    # numeric:             unit = "g/dL", min = 3.0, max = 20.0
    # region:              region = "FAZ", role = "octa", spacing_mm = 0.0098,
    #                      also = "binary", also_question = "Glaucoma?",
    #                      labels = ["no glaucoma", "glaucoma"], confidence = "0-100"
    #                      (see ``Task``; README "Region answers")

    [hanging]
    roles = ["T2axi", "T2sag", "DWI"]   # one viewport per role, columns of cases.csv
    sync = "position"            # position | fraction | none

    [triage]                     # optional, mode = "triage" with specimens
    top_k = 3                    # fields of a specimen marked as the AI's picks in the gallery

    [model]                      # optional
    spec = "models/mri/model.toml"
    roles = { photo = "image" }  # optional: model role -> study role, when the names differ
    positive = ["CIN2+"]         # optional: model classes counted positive on a binary task
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from study.consistency import CONSISTENCY_POLICIES
from study.errors import ProblemList, StudyError
from study.intake.rules import RoleMatch, match_to_toml, parse_match

DESIGNS = ("sequential", "crossover", "concurrent")
TASK_KINDS = ("binary", "multiclass", "grade_distribution", "numeric")
# Every kind study.toml accepts: the answer kinds, and "region" (a drawn mask, with truth masks).
ALL_TASK_KINDS = (*TASK_KINDS, "region")
REGION_ALSO = ("", "binary")  # a region task's optional combined question
CONFIDENCE_SCALES = ("0-100", "1-5")
SYNC_MODES = ("position", "fraction", "none")
MODES = ("reading", "triage")
# Modes whose screens have an AI-free unaided form: the reading screen, and the
# triage queue (in the reader's seeded order, no AI columns, no CAM).  A design
# with unaided reads (sequential, crossover) is refused for any other mode:
# readers never see the AI in an unaided read.
UNAIDED_FORMS: frozenset[str] = frozenset({"reading", "triage"})


@dataclass(frozen=True)
class Task:
    """The question.  Region tasks (``kind = "region"``) use these fields too:

    region: the name of the region the reader outlines ("FAZ").
    role: the hanging role drawn on ("" = the first role).
    spacing_mm: pixel spacing (mm) of 2-D images, which carry none; None = the
        media's own spacing (DICOM), else areas in pixels only.
    also: "" or "binary": a combined question answered beside the region, a
        category of ``labels`` plus a likelihood on the ``confidence`` scale
        (e.g. "Glaucoma?" 0-100), asked as ``also_question``.
    """

    kind: str
    question: str = ""
    labels: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    confidence: str = "0-100"
    consistency: str = "warn"  # binary: "warn" | "block" on a category contradicting the rating
    grades: tuple[str, ...] = ()
    unit: str = ""
    min: float | None = None
    max: float | None = None
    region: str = ""
    role: str = ""
    spacing_mm: float | None = None
    also: str = ""
    also_question: str = ""

    @property
    def has_likelihood(self) -> bool:
        """A binary category + likelihood is asked (binary tasks; region tasks with ``also``)."""
        return self.kind == "binary" or (self.kind == "region" and self.also == "binary")

    @property
    def confidence_range(self) -> tuple[int, int]:
        return (0, 100) if self.confidence == "0-100" else (1, 5)


@dataclass(frozen=True)
class HangingProtocol:
    roles: tuple[str, ...]
    sync: str = "position"
    match: tuple[RoleMatch, ...] = ()  # [hanging.match.ROLE] rules for building cases from a DICOM export


@dataclass(frozen=True)
class Protocol:
    study_id: str
    title: str
    design: str
    seed: int
    task: Task
    hanging: HangingProtocol
    washout_days: int = 0
    groups: tuple[str, ...] = ()
    mode: str = "reading"
    feedback: bool = False
    show_timer: bool = True
    time_limit_seconds: int = 0
    min_read_seconds: float = 2.0  # reading-time QC floor (seconds); faster reads are flagged, not dropped
    model_spec: str | None = None
    model_roles: tuple[tuple[str, str], ...] = ()  # (model role, study role) pairs; see study.modelfit
    model_positive: tuple[str, ...] = ()  # model classes counted positive on a binary task
    source: str = field(default="", compare=False)
    media_roots: tuple[str, ...] = ()  # as written: relative to the study folder, or absolute
    triage_top_k: int = 3  # [triage] top_k: specimen fields marked as the AI's picks

    @property
    def region_role(self) -> str:
        """The hanging role a region task is drawn on (``task.role``, else the first role)."""
        return self.task.role or self.hanging.roles[0]

    @property
    def modes(self) -> tuple[str, ...]:
        """Reading modes the design uses, in the order they are read."""
        return ("aided",) if self.design == "concurrent" else ("unaided", "aided")


class _Reader:
    """Typed access to a TOML table that collects problems instead of raising."""

    def __init__(self, problems: ProblemList, data: dict, prefix: str) -> None:
        self.problems, self.data, self.prefix = problems, data, prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def get(self, key: str, types: type | tuple[type, ...], default=..., choices=None):
        if key not in self.data:
            if default is ...:
                self.problems.add(self._key(key), "missing required key")
                return None
            return default
        value = self.data[key]
        # bool is an int in Python; a protocol that says `seed = true` is wrong.
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            self.problems.add(self._key(key), f"expected {names}, got {type(value).__name__} {value!r}")
            return None if default is ... else default
        if choices is not None and value not in choices:
            self.problems.add(self._key(key), f"{value!r} is not one of {', '.join(choices)}")
            return None
        return value

    def strings(self, key: str, default=...) -> tuple[str, ...] | None:
        value = self.get(key, list, default)
        if value is None or value is default:
            return value if value is None else tuple(value)
        if not all(isinstance(v, str) and v for v in value):
            self.problems.add(self._key(key), "expected a list of non-empty strings")
            return None
        if len(set(value)) != len(value):
            self.problems.add(self._key(key), "contains duplicates")
        return tuple(value)

    def table(self, key: str, required: bool = True) -> _Reader | None:
        if key not in self.data:
            if required:
                self.problems.add(self._key(key), "missing required table")
            return None
        value = self.data[key]
        if not isinstance(value, dict):
            self.problems.add(self._key(key), f"expected a table, got {type(value).__name__}")
            return None
        return _Reader(self.problems, value, self._key(key))

    def unknown(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                self.problems.add(self._key(key), "unknown key")


def _parse_task(r: _Reader) -> Task | None:
    region_keys = {"region", "role", "spacing_mm", "also", "also_question"}
    r.unknown(
        {"kind", "question", "labels", "positive", "confidence", "consistency", "grades", "unit", "min", "max"}
        | region_keys
    )
    kind = r.get("kind", str, choices=ALL_TASK_KINDS)
    question = r.get("question", str, "")
    if kind is None:
        return None
    if kind == "region":
        return _parse_region_task(r, question)
    for key in sorted(region_keys & set(r.data)):
        r.problems.add(r._key(key), 'only a region task (kind = "region") takes this key')
    if kind == "binary":
        labels = r.strings("labels", ("negative", "positive"))
        if labels is not None and len(labels) != 2:
            r.problems.add(
                r._key("labels"), f"a binary task needs exactly 2 labels (negative, positive), got {len(labels)}"
            )
        confidence = r.get("confidence", str, "0-100", choices=CONFIDENCE_SCALES)
        consistency = r.get("consistency", str, "warn", choices=CONSISTENCY_POLICIES)
        return Task(kind, question, labels or (), confidence=confidence or "0-100", consistency=consistency or "warn")
    if "consistency" in r.data:
        r.problems.add(r._key("consistency"), "only a binary task has a category and a likelihood to check")
    if kind == "multiclass":
        labels = r.strings("labels")
        if labels is not None and len(labels) < 2:
            r.problems.add(r._key("labels"), "a multiclass task needs at least 2 labels")
        positive = r.strings("positive", ())
        for p in positive or ():
            if labels and p not in labels:
                r.problems.add(r._key("positive"), f"{p!r} is not one of the labels")
        return Task(kind, question, labels or (), positive=positive or ())
    if kind == "grade_distribution":
        grades = r.strings("grades")
        if grades is not None and len(grades) < 2:
            r.problems.add(r._key("grades"), "a grade distribution needs at least 2 grades")
        return Task(kind, question, grades=grades or ())
    unit = r.get("unit", str, "")
    lo = r.get("min", (int, float))
    hi = r.get("max", (int, float))
    if lo is not None and hi is not None and lo >= hi:
        r.problems.add(r._key("max"), f"max ({hi}) must be greater than min ({lo})")
    return Task(
        kind, question, unit=unit or "", min=None if lo is None else float(lo), max=None if hi is None else float(hi)
    )


def _parse_region_task(r: _Reader, question: str) -> Task:
    region = r.get("region", str, "region") or "region"
    role = r.get("role", str, "") or ""
    spacing = r.get("spacing_mm", (int, float), None)
    if spacing is not None and not spacing > 0:
        r.problems.add(r._key("spacing_mm"), f"must be a pixel spacing in mm above 0, got {spacing}")
        spacing = None
    also = r.get("also", str, "", choices=REGION_ALSO) or ""
    also_question = r.get("also_question", str, "") or ""
    labels: tuple[str, ...] = ()
    confidence = "0-100"
    if also == "binary":
        labels = r.strings("labels", ("negative", "positive")) or ()
        if len(labels) != 2:
            r.problems.add(r._key("labels"), f"the combined binary question needs 2 labels, got {len(labels)}")
        confidence = r.get("confidence", str, "0-100", choices=CONFIDENCE_SCALES) or "0-100"
    else:
        for key in ("labels", "confidence", "also_question"):
            if key in r.data:
                r.problems.add(r._key(key), 'belongs to a combined question: set also = "binary"')
    for key in ("positive", "consistency", "grades", "unit", "min", "max"):
        if key in r.data:
            r.problems.add(r._key(key), "a region task does not take this key")
    return Task(
        "region",
        question,
        labels,
        confidence=confidence,
        region=region,
        role=role,
        spacing_mm=None if spacing is None else float(spacing),
        also=also,
        also_question=also_question,
    )


def parse_protocol(data: dict, source: str = "study.toml") -> Protocol:
    """Validate a decoded study.toml; raise StudyError listing every problem."""
    problems = ProblemList(source)
    root = _Reader(problems, data, "")
    root.unknown({"study", "readers", "task", "hanging", "model", "triage"})
    s = root.table("study")
    study_id = title = design = seed = None
    washout = 0
    extras: dict = {}
    if s is not None:
        s.unknown(
            {
                "id",
                "title",
                "design",
                "washout_days",
                "seed",
                "mode",
                "feedback",
                "show_timer",
                "time_limit_seconds",
                "min_read_seconds",
                "media_roots",
            }
        )
        study_id = s.get("id", str)
        if study_id is not None and not study_id.strip():
            problems.add("study.id", "must not be empty")
        title = s.get("title", str, study_id or "")
        design = s.get("design", str, choices=DESIGNS)
        seed = s.get("seed", int)
        washout = s.get("washout_days", int, 0)
        if washout is not None and washout < 0:
            problems.add("study.washout_days", f"must be 0 or more, got {washout}")
        if design == "sequential" and washout == 0 and "washout_days" not in s.data:
            problems.add("study.washout_days", "missing required key for a sequential design")
        extras = dict(
            mode=s.get("mode", str, "reading", choices=MODES) or "reading",
            feedback=s.get("feedback", bool, False),
            show_timer=s.get("show_timer", bool, True),
            time_limit_seconds=s.get("time_limit_seconds", int, 0) or 0,
            min_read_seconds=float(s.get("min_read_seconds", (int, float), 2.0) or 0.0),
            media_roots=s.strings("media_roots", ()) or (),
        )
        if design in ("sequential", "crossover") and extras["mode"] not in UNAIDED_FORMS:
            problems.add(
                "study.mode",
                f"{extras['mode']!r} has no AI-free unaided form, and design {design!r} has "
                'unaided reads; use design = "concurrent" (aided only)',
            )
        if extras["min_read_seconds"] < 0:
            problems.add("study.min_read_seconds", "must be 0 (no floor) or more")
        if extras["time_limit_seconds"] < 0:
            problems.add("study.time_limit_seconds", "must be 0 (no limit) or more")
    groups: tuple[str, ...] = ()
    rd = root.table("readers", required=False)
    if rd is not None:
        rd.unknown({"groups"})
        groups = rd.strings("groups", ()) or ()
    t = root.table("task")
    task = _parse_task(t) if t is not None else None
    h = root.table("hanging")
    hanging = None
    if h is not None:
        h.unknown({"roles", "sync", "match"})
        roles = h.strings("roles")
        if roles is not None and not 1 <= len(roles) <= 4:
            problems.add("hanging.roles", f"1 to 4 viewports, got {len(roles)}")
        for role in roles or ():
            if role.lower() in {"case_id", "truth", "patient_id"}:
                problems.add("hanging.roles", f"{role!r} is a reserved column name")
        sync = h.get("sync", str, "position", choices=SYNC_MODES)
        match = parse_match(h.data.get("match"), roles or (), problems)
        if roles:
            hanging = HangingProtocol(roles, sync or "position", match)
        if task is not None and task.kind == "region" and task.role and roles and task.role not in roles:
            problems.add("task.role", f"{task.role!r} is not one of hanging.roles")
    model_spec = None
    model_roles: tuple[tuple[str, str], ...] = ()
    model_positive: tuple[str, ...] = ()
    m = root.table("model", required=False)
    if m is not None:
        m.unknown({"spec", "roles", "positive"})
        model_spec = m.get("spec", str)
        role_map = m.get("roles", dict, {}) or {}
        if not all(isinstance(v, str) and v for v in role_map.values()):
            problems.add("model.roles", 'expected a table of model role = "study role"')
        else:
            model_roles = tuple(role_map.items())
            for study_role in role_map.values():
                if hanging is not None and study_role not in hanging.roles:
                    problems.add("model.roles", f"{study_role!r} is not one of hanging.roles")
        model_positive = m.strings("positive", ()) or ()
    top_k = 3
    tr = root.table("triage", required=False)
    if tr is not None:
        tr.unknown({"top_k"})
        top_k = tr.get("top_k", int, 3)
        if top_k is not None and top_k < 1:
            problems.add("triage.top_k", f"must be 1 or more, got {top_k}")
        top_k = top_k or 3
    problems.raise_if_any()
    return Protocol(
        study_id=study_id,
        title=title,
        design=design,
        seed=seed,
        task=task,
        hanging=hanging,
        washout_days=washout,
        groups=groups,
        model_spec=model_spec,
        model_roles=model_roles,
        model_positive=model_positive,
        triage_top_k=top_k,
        source=source,
        **extras,
    )


def load_protocol(study_dir: str | Path) -> Protocol:
    path = Path(study_dir) / "study.toml"
    if not path.is_file():
        raise StudyError([f"{path}: file not found"])
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise StudyError([f"{path}: not UTF-8 text (byte {err.start})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise StudyError([f"{path}: invalid TOML: {err}"]) from None
    return parse_protocol(data, str(path))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def protocol_to_toml(p: Protocol) -> str:
    """Write a protocol back as study.toml text (round-trips through parse_protocol)."""
    lines = ["[study]"]
    study = {
        "id": p.study_id,
        "title": p.title,
        "design": p.design,
        "washout_days": p.washout_days,
        "seed": p.seed,
        "mode": p.mode,
        "feedback": p.feedback,
        "show_timer": p.show_timer,
        "time_limit_seconds": p.time_limit_seconds,
        "min_read_seconds": p.min_read_seconds,
    }
    if p.media_roots:
        study["media_roots"] = p.media_roots
    lines += [f"{k} = {_toml_value(v)}" for k, v in study.items()]
    lines += ["", "[readers]", f"groups = {_toml_value(p.groups)}", "", "[task]"]
    t = p.task
    task: dict = {"kind": t.kind, "question": t.question}
    if t.kind == "binary":
        task |= {"labels": t.labels, "confidence": t.confidence, "consistency": t.consistency}
    elif t.kind == "multiclass":
        task |= {"labels": t.labels, "positive": t.positive}
    elif t.kind == "grade_distribution":
        task |= {"grades": t.grades}
    elif t.kind == "region":
        task |= {"region": t.region}
        if t.role:
            task["role"] = t.role
        if t.spacing_mm is not None:
            task["spacing_mm"] = t.spacing_mm
        if t.also:
            task |= {"also": t.also, "also_question": t.also_question, "labels": t.labels, "confidence": t.confidence}
    else:
        task |= {"unit": t.unit}
        if t.min is not None:
            task["min"] = t.min
        if t.max is not None:
            task["max"] = t.max
    lines += [f"{k} = {_toml_value(v)}" for k, v in task.items()]
    lines += ["", "[hanging]", f"roles = {_toml_value(p.hanging.roles)}", f"sync = {_toml_value(p.hanging.sync)}"]
    lines += match_to_toml(p.hanging.match)
    if p.mode == "triage" or p.triage_top_k != 3:
        lines += ["", "[triage]", f"top_k = {p.triage_top_k}"]
    if p.model_spec:
        lines += ["", "[model]", f"spec = {_toml_value(p.model_spec)}"]
        if p.model_roles:
            lines.append(f"roles = {_toml_value(dict(p.model_roles))}")
        if p.model_positive:
            lines.append(f"positive = {_toml_value(p.model_positive)}")
    return "\n".join(lines) + "\n"
