"""The new-study wizard's logic, without Qt: scan a folder, edit a draft, check it, write it.

The wizard builds the same ``study.toml`` + ``cases.csv`` as ``readerstudy new``
(:mod:`study.newstudy`), with more options: every task kind (a region outlined on the
image too, with its truth masks), editable media mapping and roles, groups,
time limit.  Checks reuse the engine's own
validators (:func:`study.protocol.parse_protocol`, :func:`study.cases.load_cases`)
so the wizard never accepts a study the CLI would reject.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from study.cases import load_cases
from study.csvtable import read_case_rows
from study.errors import StudyError
from study.media import MediaError, detect_kind
from study.newstudy import (
    bring_media,
    find_case_media,
    label_counts,
    media_roots_for,
    plain_order,
    read_truth,
)
from study.protocol import Protocol, load_protocol, parse_protocol, protocol_to_toml

MAX_ROLES = 4
MASK_COLUMN = "truth_mask"  # as in cases.csv (study.cases): the truth mask of a region task


@dataclass(frozen=True)
class DraftCase:
    """One row of the case table being built; ``media`` maps role -> absolute path ('' = none);
    ``truth_mask``: absolute path of the case's truth mask (region tasks; '' = none)."""

    case_id: str
    truth: str
    patient_id: str
    media: tuple[tuple[str, str], ...] = ()
    truth_mask: str = ""

    def path(self, role: str) -> str:
        return dict(self.media).get(role, "")


@dataclass(frozen=True)
class Scan:
    cases: tuple[DraftCase, ...]
    roles: tuple[str, ...]
    problems: tuple[str, ...]  # one line each, naming the file


@dataclass(frozen=True)
class Problem:
    """A validation problem; ``row`` is the index in the draft table (None: not about one case)."""

    message: str
    row: int | None = None


@dataclass(frozen=True)
class StudySettings:
    """Everything of the protocol the wizard asks for (plain values, as typed)."""

    study_id: str
    title: str = ""
    design: str = "sequential"
    washout_days: int = 28
    seed: int = 0
    groups: tuple[str, ...] = ()
    time_limit_seconds: int = 0
    kind: str = "binary"
    question: str = "Positive?"
    labels: tuple[str, ...] = ("negative", "positive")
    confidence: str = "0-100"
    positive: tuple[str, ...] = ()
    grades: tuple[str, ...] = ("A", "B", "C", "D", "E")
    unit: str = ""
    min: float | None = None
    max: float | None = None
    sync: str = "position"
    show_timer: bool = True
    # kind = "region" (study.protocol.Task): what is outlined, on which role, the pixel size in mm
    # (None: the media's own, e.g. DICOM PixelSpacing, else areas in pixels), the combined question
    region: str = ""
    region_role: str = ""
    spacing_mm: float | None = None
    also: str = ""
    also_question: str = ""
    # The truth table's two labels while the researcher has not said which is positive (the
    # disease): words like glaucoma / normal do not say it themselves (see :func:`plain_order`).
    # Create refuses until chosen (:func:`choose_positive`); () when there is nothing to choose.
    positive_to_choose: tuple[str, ...] = ()


PASSWORD_PROBLEM = "admin password:"  # how the password's problems begin (the wizard re-checks on typing)


def random_seed() -> int:
    return secrets.randbelow(2**31)


def scan(media_dir: str | Path, truth_csv: str | Path) -> Scan:
    """Read the truth table and find each case's media (as ``readerstudy new`` does).

    Cases without media stay in the table with empty paths, so the researcher
    can fix them in place; roles are those of the first case that has media.
    Raises StudyError when the truth table itself cannot be read.
    """
    media_dir = Path(media_dir).resolve()
    if not media_dir.is_dir():
        raise StudyError([f"{media_dir}: media folder not found"])
    rows = read_truth(Path(truth_csv))
    masks = read_truth_masks(Path(truth_csv))
    roles: tuple[str, ...] = ()
    found_by_case: dict[str, dict[str, Path]] = {}
    problems: list[str] = []
    for cid, _, _ in rows:
        found = find_case_media(media_dir, cid)
        found_by_case[cid] = found
        if found and not roles:
            roles = tuple(sorted(found))
        if not found:
            problems.append(f"{media_dir}: no file or folder for case {cid!r} (expected {cid}.* or {cid}/)")
        elif roles and tuple(sorted(found)) != roles:
            problems.append(
                f"{media_dir / cid}: roles {', '.join(sorted(found))} differ from the first case's ({', '.join(roles)})"
            )
    if len(roles) > MAX_ROLES:
        problems.append(f"{media_dir}: {len(roles)} media per case; at most {MAX_ROLES} viewports")
    cases = tuple(
        DraftCase(
            cid, truth, patient, tuple((r, str(found_by_case[cid].get(r, ""))) for r in roles), masks.get(cid, "")
        )
        for cid, truth, patient in rows
    )
    return Scan(cases, roles, tuple(problems))


def read_truth_masks(truth_csv: Path) -> dict[str, str]:
    """case_id -> absolute truth-mask path from the truth table's optional ``truth_mask`` column
    (paths relative to the table's folder, as cases.csv's are to the study folder); {} without it."""
    header, table, _ = read_case_rows(Path(truth_csv), ("case_id",))
    if MASK_COLUMN not in header:
        return {}
    folder = Path(truth_csv).resolve().parent
    return {v["case_id"]: str((folder / v[MASK_COLUMN]).resolve()) if v[MASK_COLUMN] else "" for _, v in table}


def media_spacing(path: str | Path) -> tuple[float, float] | None:
    """(row, column) pixel spacing in mm that a case's media declares (DICOM PixelSpacing and its
    kin, read from the first file's header), or None: photos and videos carry none, nor some DICOM.
    Raises StudyError naming the file when it cannot be read."""
    import pydicom

    from study.media.dicom_tags import known_pixel_spacing

    p = Path(path)
    try:
        kind = detect_kind(p)
        if kind == "series":
            files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            p = next((f for f in files if f.name.upper() != "DICOMDIR" and detect_kind(f) == "dicom"), p)
        elif kind != "dicom":
            return None
    except MediaError as err:
        raise StudyError([str(err)]) from None
    try:
        ds = pydicom.dcmread(p, stop_before_pixels=True, force=True)
    except Exception as exc:  # pydicom raises many types on garbage; the message names the file
        raise StudyError([f"{p}: not a readable DICOM header ({type(exc).__name__}: {exc})"]) from None
    return known_pixel_spacing(ds)


def counts_text(truths: list[str] | tuple[str, ...]) -> str:
    """'glaucoma: 12 cases, normal: 8 cases' for the screen."""
    return ", ".join(f"{label}: {n} case{'s' * (n != 1)}" for label, n in label_counts(truths).items())


def choose_positive(labels: tuple[str, ...], positive: str) -> tuple[str, str]:
    """(negative, positive) labels once the researcher chose ``positive`` among two labels;
    raises StudyError naming the labels when it is not one of them."""
    if len(labels) != 2 or positive not in labels:
        raise StudyError([f"positive label {positive!r}: not one of the truth labels {' or '.join(labels)}"])
    return (labels[0] if labels[1] == positive else labels[1]), positive


POSITIVE_UNCHOSEN = "choose which label is positive (the disease)"


def positive_problem(s: StudySettings) -> str | None:
    """The line Create shows while the positive label is not chosen (None once it is, or when the
    task asks no yes/no question)."""
    yes_no = s.kind == "binary" or (s.kind == "region" and s.also == "binary")
    if not yes_no or len(s.positive_to_choose) != 2:
        return None
    a, b = s.positive_to_choose
    return f"{POSITIVE_UNCHOSEN}: {a} or {b}"


def _two_labels(distinct: list[str]) -> dict:
    """The labels of a yes/no question from two truth labels: in order when the words say which is
    positive, else in alphabetical order with the choice left to the researcher."""
    order = plain_order(distinct)
    if order:
        return {"labels": order}
    return {"labels": tuple(distinct), "positive_to_choose": tuple(distinct)}


def guess_task(truths: list[str], masks: bool = False) -> dict:
    """A first guess of the task from the truth values, to pre-fill the wizard.

    With truth masks (a ``truth_mask`` column) the task is a region, with a
    combined yes/no question when the truths are binary.  A few stray values
    (typos) do not change the guess: they are what the check then reports,
    row by row.
    """
    values = [t for t in truths if t]
    if masks:
        guess = {"kind": "region", "question": "Outline the region"}
        distinct = sorted(set(values))
        if values and sum(t in ("0", "1") for t in values) >= 0.8 * len(values):
            guess |= {"also": "binary", "also_question": "Positive?", "labels": ("negative", "positive")}
        elif len(distinct) == 2:  # two labels: a yes/no question in their words
            guess |= {"also": "binary", "also_question": "Positive?", **_two_labels(distinct)}
        return guess
    if not values:
        return {"kind": "binary"}
    most = 0.8 * len(values)
    if sum(t in ("0", "1") for t in values) >= most:
        return {"kind": "binary"}
    if sum(";" in t for t in values) >= most:
        n = max(len(t.split(";")) for t in values if ";" in t)
        return {"kind": "grade_distribution", "grades": tuple("ABCDEFGHIJ"[:n])}
    numbers = []
    for t in values:
        try:
            numbers.append(float(t))
        except ValueError:
            pass
    if len(numbers) >= most:
        return {"kind": "numeric", "min": min(numbers), "max": max(numbers)}
    labels = tuple(sorted(set(values)))
    if len(labels) == 2:  # a yes/no question in the table's words
        return {"kind": "binary", **_two_labels(list(labels))}
    # Which classes count positive is the researcher's to say (optional): alphabetical order
    # would make e.g. "normal" the positive of CIN1, CIN2+, normal.
    return {"kind": "multiclass", "labels": labels, "positive": ()}


# -- editing the draft (pure functions: new tuples, the caller keeps one copy) --
def set_cell(cases: tuple[DraftCase, ...], row: int, column: str, value: str) -> tuple[DraftCase, ...]:
    """Change one cell: ``case_id``, ``truth``, ``patient_id``, ``truth_mask`` or a role's media path."""
    c = cases[row]
    value = value.strip()
    if column in ("case_id", "truth", "patient_id", MASK_COLUMN):
        new = dataclasses.replace(c, **{column: value})
    else:
        media = dict(c.media)
        if column not in media:
            raise StudyError([f"no column {column!r} in the case table"])
        media[column] = value
        new = dataclasses.replace(c, media=tuple(media.items()))
    return cases[:row] + (new,) + cases[row + 1 :]


def remove_rows(cases: tuple[DraftCase, ...], rows: set[int]) -> tuple[DraftCase, ...]:
    return tuple(c for i, c in enumerate(cases) if i not in rows)


_ROLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*$")


def rename_role(cases: tuple[DraftCase, ...], roles: tuple[str, ...], old: str, new: str):
    """Rename a viewport role in the roles and every case; returns (cases, roles)."""
    new = new.strip()
    problems = []
    if not _ROLE_RE.match(new):
        problems.append(f"role {new!r}: use letters, digits, _ + - and start with a letter")
    elif new.lower() in {"case_id", "truth", "patient_id", MASK_COLUMN}:
        problems.append(f"role {new!r}: is a reserved column name")
    elif new != old and new in roles:
        problems.append(f"role {new!r}: already used")
    if problems:
        raise StudyError(problems)
    roles2 = tuple(new if r == old else r for r in roles)
    cases2 = tuple(dataclasses.replace(c, media=tuple((new if r == old else r, p) for r, p in c.media)) for c in cases)
    return cases2, roles2


# -- protocol and checks -------------------------------------------------------
def aided_note(design: str) -> str:
    """What the Protocol page says about the AI: every design has aided reads, and they open only
    once a model is attached and its outputs precomputed (study.engine.AIReadiness).  A note,
    not a problem: the model is attached after Create."""
    which = {
        "sequential": "Session 2 is read with the AI: it opens",
        "crossover": "Both sessions hold cases read with the AI: they open",
        "concurrent": "Every case is read with the AI: the session opens",
    }.get(design, "Reads with the AI open")
    return (
        f"{which} only when a model is attached and its outputs are precomputed for every case "
        "(after Create: Study administration \u2192 Model)."
    )


def protocol_data(s: StudySettings, roles: tuple[str, ...], model_spec: str | None = None) -> dict:
    """The decoded study.toml for these settings (fed to the engine's own validator)."""
    task: dict = {"kind": s.kind, "question": s.question}
    if s.kind == "binary":
        task |= {"labels": list(s.labels), "confidence": s.confidence}
    elif s.kind == "multiclass":
        task |= {"labels": list(s.labels), "positive": list(s.positive)}
    elif s.kind == "grade_distribution":
        task |= {"grades": list(s.grades)}
    elif s.kind == "region":
        if s.region:
            task["region"] = s.region
        if s.region_role:
            task["role"] = s.region_role
        if s.spacing_mm is not None:
            task["spacing_mm"] = s.spacing_mm
        if s.also:
            task |= {"also": s.also, "also_question": s.also_question, "labels": list(s.labels)}
            task["confidence"] = s.confidence
    else:
        task["unit"] = s.unit
        if s.min is not None:
            task["min"] = s.min
        if s.max is not None:
            task["max"] = s.max
    data = {
        "study": {
            "id": s.study_id,
            "title": s.title or s.study_id,
            "design": s.design,
            "washout_days": s.washout_days,
            "seed": s.seed,
            "show_timer": s.show_timer,
            "time_limit_seconds": s.time_limit_seconds,
        },
        "readers": {"groups": list(s.groups)},
        "task": task,
        "hanging": {"roles": list(roles), "sync": s.sync},
    }
    if model_spec:
        data["model"] = {"spec": model_spec}
    return data


def build_protocol(s: StudySettings, roles: tuple[str, ...], match: tuple = ()) -> Protocol:
    """Validate the settings as the CLI would read them; raise StudyError (study.toml: key: cause).

    ``match``: the ``[hanging.match.ROLE]`` rules of a study built from a DICOM export
    (:class:`study.protocol.RoleMatch`; they say which roles are optional)."""
    protocol = parse_protocol(protocol_data(s, roles), "study.toml")
    if match:
        protocol = dataclasses.replace(protocol, hanging=dataclasses.replace(protocol.hanging, match=tuple(match)))
    return protocol


def cases_csv(study_dir: Path, roles: tuple[str, ...], cases: tuple[DraftCase, ...], masks: bool = False) -> str:
    """cases.csv text in the CLI's format: media paths relative to the study folder; with
    ``masks`` (region tasks) a ``truth_mask`` column after the roles, relative too."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["case_id", "truth", "patient_id", *roles, *((MASK_COLUMN,) if masks else ())])
    for c in cases:
        paths = [os.path.relpath(c.path(r), study_dir) if c.path(r) else "" for r in roles]
        if masks:
            paths.append(os.path.relpath(c.truth_mask, study_dir) if c.truth_mask else "")
        w.writerow([c.case_id, c.truth, c.patient_id, *paths])
    return buf.getvalue()


_ROW_RE = re.compile(r": row (\d+)\b")


def check(
    study_dir: str | Path,
    settings: StudySettings,
    roles: tuple[str, ...],
    cases: tuple[DraftCase, ...],
    match: tuple = (),
) -> list[Problem]:
    """Every problem the CLI would report for this draft, each tied to its table row.

    The draft is written to a scratch folder beside nothing of the study and
    read back by :func:`load_cases`; file names in messages are the study's.
    """
    study_dir = Path(study_dir).resolve()
    problems: list[Problem] = []
    if not study_dir.name:
        problems.append(Problem("study folder: not chosen"))
    elif (study_dir / "study.toml").exists():
        problems.append(Problem(f"{study_dir / 'study.toml'}: already exists; choose an empty study folder"))
    unchosen = positive_problem(settings)
    if unchosen:
        problems.append(Problem(unchosen))
    if settings.kind == "region" and not settings.region.strip():
        # else study.toml says region = "region" and every screen and export names it so
        problems.append(Problem("region: name what the reader outlines (e.g. FAZ, optic disc, lesion)"))
    try:
        protocol = build_protocol(settings, roles, match)
    except StudyError as err:
        return problems + [Problem(p.replace("study.toml", str(study_dir / "study.toml"), 1)) for p in err.problems]
    with tempfile.TemporaryDirectory(prefix="wizard-") as tmp:
        scratch = Path(tmp).resolve()
        masks = protocol.task.kind == "region"
        (scratch / "cases.csv").write_text(cases_csv(scratch, roles, cases, masks), encoding="utf-8")
        try:
            loaded = load_cases(scratch, protocol, check_media=True)
        except StudyError as err:
            for line in err.problems:
                line = line.replace(str(scratch / "cases.csv"), str(study_dir / "cases.csv"))
                m = _ROW_RE.search(line)
                problems.append(Problem(line, int(m.group(1)) - 2 if m else None))
            return problems
    if masks:
        problems += truth_mask_problems(protocol, loaded, cases)
    return problems


def truth_mask_problems(protocol: Protocol, loaded: tuple, cases: tuple[DraftCase, ...]) -> list[Problem]:
    """Each truth mask that does not fit its image (``study.intake.validate.check_truth_mask``,
    as ``readerstudy validate`` says it), tied to the case's row: the report cannot use it."""
    from study.intake.validate import check_truth_mask

    rows = {c.case_id: i for i, c in enumerate(cases)}
    return [
        Problem(f"case {f.case_id}: {f.path}: {f.cause}", rows.get(f.case_id))
        for case in loaded
        for f in check_truth_mask(case, protocol)
    ]


def decode_media(
    cases: tuple[DraftCase, ...], roles: tuple[str, ...]
) -> Generator[tuple[int, int], None, list[Problem]]:
    """Decode every case's media as the reading screen will (``study.intake.validate.check_media``,
    what ``readerstudy validate`` runs), one case at a time.

    A generator for a worker: yields (cases done, cases in all) after each case and returns every
    problem, each naming case, role, file and cause and tied to the case's table row.  Seconds for a
    large study: the structural :func:`check` does not decode, so it stays instant on the screen.
    """
    from study.intake.validate import check_media
    from study.specimen import field_paths

    problems: list[Problem] = []
    for row, case in enumerate(cases):
        for role in roles:
            for path in field_paths(case.path(role)) if case.path(role) else ():
                problems += [
                    Problem(f"case {case.case_id} / {role}: {f.path}: {f.cause}", row)
                    for f in check_media(case.case_id, role, Path(path))
                ]
        yield row + 1, len(cases)
    return problems


def media_problems(cases: tuple[DraftCase, ...], roles: tuple[str, ...]) -> list[Problem]:
    """:func:`decode_media` run to the end (no progress)."""
    gen = decode_media(cases, roles)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


MIN_PASSWORD = 6
# (study folder, case -> role -> media path) -> case -> role -> the path in the study folder
PlaceMedia = Callable[[Path, dict[str, dict[str, Path]]], dict[str, dict[str, Path]]]


def password_problems(password: str, confirm: str) -> list[Problem]:
    """The admin password as Create checks it: long enough, and typed the same twice."""
    problems = []
    if password != confirm:
        problems.append(Problem(f"{PASSWORD_PROBLEM} the two entries differ"))
    if len(password) < MIN_PASSWORD:
        problems.append(Problem(f"{PASSWORD_PROBLEM} must have at least {MIN_PASSWORD} characters"))
    return problems


def write_study(
    study_dir: str | Path,
    settings: StudySettings,
    roles: tuple[str, ...],
    cases: tuple[DraftCase, ...],
    admin_password: str | None = None,
    *,
    media: str = "copy",
    media_dir: str | Path | None = None,
    decode: bool = False,
    match: tuple = (),
    place_media: PlaceMedia | None = None,
) -> Protocol:
    """Write study.toml and cases.csv (and the admin password into the store); return the protocol.

    ``decode``: also decode every media file first (:func:`decode_media`) and refuse on any
    that the reading screen could not show (the wizard's Create does; it runs in a worker).

    ``media`` (one of :data:`study.newstudy.MEDIA_MODES`): copy the cases' media into
    ``STUDY_DIR/media`` (default; paths under ``media_dir`` are kept), link them there, or
    leave them in place; cases.csv paths are relative to the study folder either way.  A region
    task's truth masks go the same way into ``STUDY_DIR/masks``.
    Raises StudyError listing every problem of :func:`check` and writes nothing then.

    A study from a DICOM export (:func:`study.intake.create.create_intake_study`) passes its
    ``match`` rules and ``place_media``: called once every check passed, it puts the cases' media
    into the study folder its own way (links, copies or de-identified copies of the matched volumes)
    and returns case -> role -> path, in place of the copy/link/in-place ``media`` modes.
    """
    study_dir = Path(study_dir).resolve()
    problems = check(study_dir, settings, roles, cases, match)
    if admin_password is not None:
        problems += password_problems(admin_password, admin_password)
    if decode and not problems:
        problems += media_problems(cases, roles)
    if problems:
        raise StudyError([p.message for p in problems])
    protocol = build_protocol(settings, roles, match)
    study_dir.mkdir(parents=True, exist_ok=True)
    wanted = {c.case_id: {r: Path(p) for r, p in c.media if p} for c in cases}
    if place_media is not None:
        placed = place_media(study_dir, wanted)
    else:
        placed = bring_media(study_dir, Path(media_dir) if media_dir else None, wanted, media)
    region = protocol.task.kind == "region"
    masks = (
        bring_media(study_dir, None, {c.case_id: {MASK_COLUMN: Path(c.truth_mask)} for c in cases}, media, "masks")
        if region
        else {}
    )
    cases = tuple(
        dataclasses.replace(
            c,
            media=tuple((r, str(placed[c.case_id][r]) if p else "") for r, p in c.media),
            truth_mask=str(masks[c.case_id][MASK_COLUMN]) if region else "",
        )
        for c in cases
    )
    # media left outside the study folder (in-place) must be named as a media root, or `validate` refuses it
    protocol = dataclasses.replace(
        protocol, media_roots=media_roots_for(study_dir, [p for c in cases for _, p in c.media if p])
    )
    (study_dir / "cases.csv").write_text(cases_csv(study_dir, roles, cases, region), encoding="utf-8")
    (study_dir / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    protocol = load_protocol(study_dir)
    load_cases(study_dir, protocol)
    if admin_password is not None:
        from study.store import Store  # the store pulls in SQLAlchemy; only needed here

        store = Store.open(study_dir)
        try:
            store.set_admin_password(admin_password)
        finally:
            store.close()
    return protocol


def attach_model(
    study_dir: str | Path, spec_path: str | Path, role_map: dict[str, str] | None = None, positive: tuple[str, ...] = ()
) -> Protocol:
    """Record a model spec in study.toml (``[model] spec``, relative to the study folder), with the
    role map (model role -> study role; identical names are left out) and the binary collapse."""
    study_dir = Path(study_dir).resolve()
    protocol = load_protocol(study_dir)
    rel = os.path.relpath(Path(spec_path).resolve(), study_dir)
    roles = tuple((m, s) for m, s in (role_map or {}).items() if m != s)
    updated = dataclasses.replace(
        protocol, model_spec=Path(rel).as_posix(), model_roles=roles, model_positive=tuple(positive)
    )
    (study_dir / "study.toml").write_text(protocol_to_toml(updated), encoding="utf-8")
    return load_protocol(study_dir)
