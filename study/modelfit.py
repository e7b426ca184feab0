"""Does a model fit a study?  Roles (which media the model reads) and head vs task.

Plain Python on plain values, so the admin screen, ``readerstudy precompute``
and the tests all decide the same way before any weights are loaded.

Roles: the model's ``[[members]] role`` names may differ from the study's
viewport roles (a model trained on ``photo`` for a study that names it
``image``).  A role map ``{model role: study role}``, stored in study.toml
as ``[model] roles``, says which study column each member reads.

Head vs task: a model answers the study's task only when its head and labels
match it, or when a binary collapse says which model classes count positive
(``positive`` in model.toml, or ``[model] positive`` in study.toml), e.g. a
3-class cytology model (normal / CIN1 / CIN2+) on a binary task with CIN2+
positive.  Anything else is refused with a message naming both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from study.protocol import Task


@dataclass(frozen=True)
class ModelFacts:
    """What the fit needs to know of a model spec (``inference.spec.ModelSpec``, reduced)."""

    path: str
    head: str
    labels: tuple[str, ...]
    roles: tuple[str, ...]
    positive: tuple[str, ...] = ()


def unmapped_roles(
    model_roles: tuple[str, ...], study_roles: tuple[str, ...], role_map: dict[str, str] | None = None
) -> tuple[str, ...]:
    """Model roles that neither name a study role nor are mapped to one."""
    role_map = role_map or {}
    return tuple(r for r in model_roles if role_map.get(r, r) not in study_roles)


def suggest_role_map(model_roles: tuple[str, ...], study_roles: tuple[str, ...]) -> dict[str, str]:
    """A first guess for the mapping screen: same name, else the same case-folded name, else
    (one unmatched model role and one unmatched study role) the two paired; otherwise no guess."""
    guess: dict[str, str] = {}
    folded = {s.casefold(): s for s in study_roles}
    for r in model_roles:
        if r in study_roles:
            guess[r] = r
        elif r.casefold() in folded:
            guess[r] = folded[r.casefold()]
    left_model = [r for r in model_roles if r not in guess]
    left_study = [s for s in study_roles if s not in guess.values()]
    if len(left_model) == 1 and len(left_study) == 1:
        guess[left_model[0]] = left_study[0]
    return guess


def role_map_problems(model: ModelFacts, study_roles: tuple[str, ...], role_map: dict[str, str]) -> list[str]:
    """Every problem of a role map: unknown roles, a study role read by two members, unmapped roles."""
    problems = []
    for m_role, s_role in role_map.items():
        if m_role not in model.roles:
            problems.append(
                f"{model.path}: role map: the model has no role {m_role!r} (it reads {', '.join(model.roles)})"
            )
        if s_role not in study_roles:
            problems.append(
                f"{model.path}: role map: the study has no role {s_role!r} (roles: {', '.join(study_roles)})"
            )
    targets = [role_map.get(r, r) for r in model.roles]
    for s_role in sorted({t for t in targets if targets.count(t) > 1}):
        problems.append(f"{model.path}: role map: study role {s_role!r} is given to more than one model role")
    missing = unmapped_roles(model.roles, study_roles, role_map)
    if missing and not problems:
        problems.append(
            f"{model.path}: the model reads role(s) {', '.join(missing)} that the study does not have "
            f"(roles: {', '.join(study_roles)}): map each model role to a study role "
            "(Model and precompute in the admin screen, or [model] roles in study.toml)"
        )
    return problems


def collapse(model: ModelFacts, study_positive: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The model classes counted positive on a binary task: the study's choice, else the spec's."""
    return tuple(study_positive) or tuple(model.positive)


def task_problems(model: ModelFacts, task: Task, study_positive: tuple[str, ...] = ()) -> list[str]:
    """Why this model's head cannot answer the study's task ([] when it can)."""
    head, labels, where = model.head, model.labels, model.path
    shown = f"{head} head ({', '.join(labels)})"
    if task.kind == "binary":
        if head == "binary":
            return []
        if head == "multiclass":
            positive = collapse(model, study_positive)
            if not positive:
                return [
                    (
                        f"{where}: a {len(labels)}-class model ({', '.join(labels)}) on a binary task needs a "
                        "binary collapse: choose the model classes counted positive "
                        "(positive in model.toml, or [model] positive in study.toml)"
                    )
                ]
            wrong = [p for p in positive if p not in labels]
            if wrong:
                return [f"{where}: positive class(es) {', '.join(wrong)} are not model labels ({', '.join(labels)})"]
            if set(positive) == set(labels):
                return [f"{where}: every model class is counted positive; leave at least one negative"]
            return []
        return [f"{where}: a model with a {shown} cannot answer a binary task"]
    if task.kind == "multiclass":
        if head != "multiclass":
            return [f"{where}: a model with a {shown} cannot answer a multiclass task ({', '.join(task.labels)})"]
        if set(labels) != set(task.labels):
            return [
                (
                    f"{where}: the model's classes ({', '.join(labels)}) differ from the task's "
                    f"({', '.join(task.labels)})"
                )
            ]
        return []
    if task.kind == "grade_distribution":
        if head != "grade_distribution" or len(labels) != len(task.grades):
            return [
                (f"{where}: a model with a {shown} cannot answer a grade distribution over {', '.join(task.grades)}")
            ]
        return []
    if task.kind == "region":
        if head != "segmentation":
            return [f"{where}: a model with a {shown} cannot propose a region; a segmentation head is needed"]
        return []
    if head != "regression":  # numeric
        return [f"{where}: a model with a {shown} cannot answer a numeric task"]
    return []


def fit_problems(
    model: ModelFacts,
    task: Task,
    study_roles: tuple[str, ...],
    role_map: dict[str, str] | None = None,
    study_positive: tuple[str, ...] = (),
) -> list[str]:
    """Every reason the model cannot be used on this study (roles, then head vs task); [] = it fits."""
    return role_map_problems(model, study_roles, role_map or {}) + task_problems(model, task, study_positive)
