"""The case table, `cases.csv`: one row per case, media paths per hanging role.

Columns: ``case_id, truth, patient_id`` and one column per role of the
hanging protocol, holding a path relative to the study folder (a file, or a
folder for a DICOM series).  A specimen (several fields of view, see
``study.specimen``) lists its field files separated by ``;`` or names a folder
of images; each field path is resolved and checked.  Truth is checked against the task: binary 0/1
(or the positive/negative label), a multiclass label, a number in range, or a
grade distribution ``p1;p2;...`` that sums to 1.

A region task (``kind = "region"``) also needs a ``truth_mask`` column: the
path of the truth mask of the case (a PNG, any non-zero pixel inside; or a
``.npy`` bool array), relative to the study folder.  Its ``truth`` is the
combined question's label (0/1 or a label) when the task has one, else it may
be empty.  ``readerstudy validate`` checks each mask against the image shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from study.csvtable import read_case_rows
from study.errors import StudyError
from study.protocol import Protocol, Task
from study.specimen import FIELD_SEPARATOR, is_specimen_cell

REQUIRED_COLUMNS = ("case_id", "truth", "patient_id")


@dataclass(frozen=True)
class Case:
    """One case.  ``case_id`` is internal and is never shown to a reader."""

    case_id: str
    truth: str
    patient_id: str
    media: Mapping[str, str]  # role -> absolute path
    truth_mask: str | None = None  # region tasks: absolute path of the truth mask


def truth_problem(task: Task, truth: str) -> str | None:
    """Why ``truth`` is not a truth of ``task`` (None when it is)."""
    if task.kind == "region":
        if task.also != "binary":
            return None  # the truth is the mask
        if truth in ("0", "1") or truth in task.labels:
            return None
        return f"truth {truth!r} is not 0, 1, {task.labels[0]!r} or {task.labels[1]!r}"
    if truth == "":
        return "truth is empty"
    if task.kind == "binary":
        if truth in ("0", "1") or truth in task.labels:
            return None
        return f"truth {truth!r} is not 0, 1, {task.labels[0]!r} or {task.labels[1]!r}"
    if task.kind == "multiclass":
        return None if truth in task.labels else f"truth {truth!r} is not one of {', '.join(task.labels)}"
    if task.kind == "numeric":
        try:
            value = float(truth)
        except ValueError:
            return f"truth {truth!r} is not a number"
        if not math.isfinite(value):
            return f"truth {truth!r} is not a finite number"
        if task.min is not None and value < task.min or task.max is not None and value > task.max:
            return f"truth {value} is outside {task.min}..{task.max} {task.unit}".rstrip()
        return None
    parts = truth.split(";")
    if len(parts) != len(task.grades):
        return f"truth needs {len(task.grades)} probabilities separated by ';', got {len(parts)}"
    try:
        probs = [float(p) for p in parts]
    except ValueError:
        return f"truth {truth!r} has a value that is not a number"
    if any(p < 0 for p in probs) or abs(sum(probs) - 1.0) > 1e-3:
        return f"truth probabilities must be >= 0 and sum to 1 (sum is {sum(probs):.4f})"
    return None


def binary_truth(task: Task, truth: str) -> int:
    """Truth as 0/1 for a binary task (labels map to their index)."""
    return 1 if truth in ("1", task.labels[1] if len(task.labels) == 2 else "1") else 0


def load_cases(study_dir: str | Path, protocol: Protocol, check_media: bool = True) -> tuple[Case, ...]:
    """Read and validate cases.csv; raise StudyError listing every problem."""
    study_dir = Path(study_dir).resolve()
    path = study_dir / "cases.csv"
    roles = protocol.hanging.roles
    optional = {m.role for m in protocol.hanging.match if m.optional}  # may be empty in a case (intake: "none")
    region = protocol.task.kind == "region"
    _, rows, problems = read_case_rows(path, (*REQUIRED_COLUMNS, *roles, *(("truth_mask",) if region else ())))
    cases: list[Case] = []
    for line_no, values in rows:
        case_id = values["case_id"]
        where = f"{path}: row {line_no}"
        cause = truth_problem(protocol.task, values["truth"])
        if cause:
            problems.append(f"{where} ({case_id}): {cause}")
        media = {}
        for role in roles:
            rel = values[role]
            if not rel:
                if role not in optional:
                    problems.append(f"{where} ({case_id}): {role}: no media path")
                continue
            # A specimen lists its fields as "a.png;b.png" (study.specimen); each is checked.
            parts = [p.strip() for p in rel.split(FIELD_SEPARATOR)] if is_specimen_cell(rel) else [rel]
            if any(not p for p in parts):
                problems.append(f"{where} ({case_id}): {role}: an empty field between ';' in {rel!r}")
                continue
            fulls = [(study_dir / p).resolve() for p in parts]
            for full in fulls:
                if check_media and not full.exists():
                    problems.append(f"{where} ({case_id}): {role}: media not found: {full}")
            media[role] = FIELD_SEPARATOR.join(str(f) for f in fulls)
        truth_mask = None
        if region:
            rel = values["truth_mask"]
            if not rel:
                problems.append(f"{where} ({case_id}): truth_mask: no mask path")
            else:
                truth_mask = str((study_dir / rel).resolve())
                if check_media and not Path(truth_mask).is_file():
                    problems.append(f"{where} ({case_id}): truth_mask: file not found: {truth_mask}")
        cases.append(
            Case(case_id, values["truth"], values["patient_id"] or case_id, MappingProxyType(media), truth_mask)
        )
    if not cases and not problems:
        problems.append(f"{path}: no cases")
    if problems:
        raise StudyError(problems)
    return tuple(cases)
