"""Role matching rules (a hanging protocol that selects series), in the spirit of OHIF's.

In study.toml, per role of ``[hanging] roles``::

    [hanging.match.T2axi]
    rules = [
      { attribute = "SeriesDescription", test = "regex", value = "(?i)t2.*(tra|ax)", weight = 3 },
      { attribute = "orientation", test = "equals", value = "axial", weight = 2, required = true },
    ]

    [hanging.match.DWI]
    prefer = "highest_b_value"      # ties between a series' b-values go to the highest
    optional = false                # true: a case may go without this role ("none" in matches.csv)
    rules = [
      { attribute = "SeriesDescription", test = "contains", value = "diff", weight = 2 },
      { attribute = "b_value", test = "range", min = 500, max = 2000, weight = 1 },
    ]

Attributes: SeriesDescription, ProtocolName, SequenceName, Modality, SeriesNumber,
BodyPartExamined, and the computed ``orientation`` (axial / sagittal / coronal),
``b_value``, ``echo``, ``temporal``, ``kind`` (image / localizer / secondary
capture), ``n_images``.  Tests: equals, contains (case-insensitive), regex
(Python ``re.search``), range (``min`` and/or ``max``, inclusive).  A volume's
score is the sum of the weights of the rules it passes; a failed
``required = true`` rule excludes it.  Localizers and secondary captures are
candidates only when a rule names ``kind``.  The best score wins; an equal
best score is a tie and is flagged, never guessed (unless ``prefer`` breaks it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from study.errors import ProblemList

if TYPE_CHECKING:  # study.protocol imports this module: keep pydicom out of its import
    from study.intake.volumes import Volume

ATTRIBUTES = (
    "SeriesDescription",
    "ProtocolName",
    "SequenceName",
    "Modality",
    "SeriesNumber",
    "BodyPartExamined",
    "orientation",
    "b_value",
    "echo",
    "temporal",
    "kind",
    "n_images",
)
TESTS = ("equals", "contains", "regex", "range")
PREFER = ("highest_b_value", "lowest_b_value", "most_images")


@dataclass(frozen=True)
class Rule:
    attribute: str
    test: str
    value: str | float | None = None
    min: float | None = None
    max: float | None = None
    weight: float = 1.0
    required: bool = False

    def passes(self, attrs: Mapping[str, object]) -> bool:
        got = attrs.get(self.attribute)
        if got is None or got == "":
            return False
        if self.test == "range":
            try:
                x = float(got)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
            return (self.min is None or x >= self.min) and (self.max is None or x <= self.max)
        if self.test == "equals":
            if isinstance(got, (int, float)) and not isinstance(self.value, str):
                return float(got) == float(self.value)  # type: ignore[arg-type]
            return str(got).strip().lower() == str(self.value).strip().lower()
        if self.test == "contains":
            return str(self.value).lower() in str(got).lower()
        return re.search(str(self.value), str(got)) is not None


@dataclass(frozen=True)
class RoleMatch:
    role: str
    rules: tuple[Rule, ...]
    prefer: str = ""
    optional: bool = False

    def score(self, volume: Volume) -> float | None:
        """Sum of passed weights; None when excluded (a required rule failed, or nothing passed)."""
        attrs = volume.attributes()
        if volume.kind != "image" and not any(r.attribute == "kind" for r in self.rules):
            return None
        total, passed = 0.0, False
        for r in self.rules:
            if r.passes(attrs):
                total += r.weight
                passed = True
            elif r.required:
                return None
        return total if passed else None

    def tie_break(self, volume: Volume) -> float:
        if self.prefer == "highest_b_value":
            return volume.b_value if volume.b_value is not None else float("-inf")
        if self.prefer == "lowest_b_value":
            return -volume.b_value if volume.b_value is not None else float("-inf")
        if self.prefer == "most_images":
            return float(volume.n_images)
        return 0.0


@dataclass(frozen=True)
class Candidate:
    volume: Volume
    score: float


@dataclass(frozen=True)
class RoleResult:
    """The automatic decision for one case and role.  status: "ok" | "missing" | "tied"."""

    role: str
    status: str
    chosen: Volume | None
    score: float | None
    candidates: tuple[Candidate, ...]  # best first; runners-up are candidates[1:]


def match_role(rm: RoleMatch, volumes: Sequence[Volume]) -> RoleResult:
    """Score every volume for one role; choose the best or flag missing / tied."""
    scored = [Candidate(v, s) for v in volumes if (s := rm.score(v)) is not None]
    scored.sort(key=lambda c: (-c.score, -rm.tie_break(c.volume), c.volume.series_number or 0, c.volume.volume_id))
    if not scored:
        return RoleResult(rm.role, "missing", None, None, ())
    best = scored[0]
    tied = [c for c in scored[1:] if c.score == best.score and rm.tie_break(c.volume) == rm.tie_break(best.volume)]
    if tied:
        return RoleResult(rm.role, "tied", None, best.score, tuple(scored))
    return RoleResult(rm.role, "ok", best.volume, best.score, tuple(scored))


def _rule(item: object, where: str, problems: ProblemList) -> Rule | None:
    if not isinstance(item, dict):
        problems.add(where, "each rule is a table { attribute = ..., test = ..., value = ..., weight = ... }")
        return None
    unknown = set(item) - {"attribute", "test", "value", "min", "max", "weight", "required"}
    if unknown:
        problems.add(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    attr, test = item.get("attribute"), item.get("test", "equals")
    ok = True
    if attr not in ATTRIBUTES:
        problems.add(where, f"attribute {attr!r} is not one of {', '.join(ATTRIBUTES)}")
        ok = False
    if test not in TESTS:
        problems.add(where, f"test {test!r} is not one of {', '.join(TESTS)}")
        ok = False
    lo, hi, value = item.get("min"), item.get("max"), item.get("value")
    if test == "range":
        if lo is None and hi is None:
            problems.add(where, "a range test needs min and/or max")
            ok = False
        if any(v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))) for v in (lo, hi)):
            problems.add(where, "min and max must be numbers")
            ok = False
    elif value is None or isinstance(value, (bool, list, dict)):
        problems.add(where, f"a {test} test needs a value (text or number)")
        ok = False
    elif test == "regex":
        try:
            re.compile(str(value))
        except re.error as err:
            problems.add(where, f"invalid regex {value!r}: {err}")
            ok = False
    weight = item.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        problems.add(where, "weight must be a number > 0")
        ok = False
    required = item.get("required", False)
    if not isinstance(required, bool):
        problems.add(where, "required must be true or false")
        ok = False
    if not ok:
        return None
    return Rule(
        attr, test, value, None if lo is None else float(lo), None if hi is None else float(hi), float(weight), required
    )


def parse_match(table: object, roles: Sequence[str], problems: ProblemList) -> tuple[RoleMatch, ...]:
    """``[hanging.match.ROLE]`` tables -> RoleMatch per role, every problem named by its key."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        problems.add("hanging.match", "must be a table of roles")
        return ()
    out = []
    for role, spec in table.items():
        key = f"hanging.match.{role}"
        if role not in roles:
            problems.add(key, f"{role!r} is not one of hanging.roles ({', '.join(roles)})")
            continue
        if not isinstance(spec, dict):
            problems.add(key, "must be a table with rules = [...]")
            continue
        unknown = set(spec) - {"rules", "prefer", "optional"}
        if unknown:
            problems.add(key, f"unknown key(s) {', '.join(sorted(unknown))}")
        items = spec.get("rules")
        if not isinstance(items, list) or not items:
            problems.add(f"{key}.rules", "needs at least one rule")
            continue
        rules = [_rule(it, f"{key}.rules[{i}]", problems) for i, it in enumerate(items)]
        prefer = spec.get("prefer", "")
        if prefer and prefer not in PREFER:
            problems.add(f"{key}.prefer", f"{prefer!r} is not one of {', '.join(PREFER)}")
        optional = spec.get("optional", False)
        if not isinstance(optional, bool):
            problems.add(f"{key}.optional", "must be true or false")
        if all(r is not None for r in rules):
            out.append(RoleMatch(role, tuple(r for r in rules if r is not None), prefer or "", optional is True))
    return tuple(out)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def match_to_toml(matches: Sequence[RoleMatch]) -> list[str]:
    """study.toml lines for ``[hanging.match.ROLE]`` tables (round-trips through parse_match)."""
    lines: list[str] = []
    for rm in matches:
        lines += ["", f"[hanging.match.{rm.role}]"]
        if rm.prefer:
            lines.append(f"prefer = {_toml(rm.prefer)}")
        if rm.optional:
            lines.append("optional = true")
        lines.append("rules = [")
        for r in rm.rules:
            parts = [f"attribute = {_toml(r.attribute)}", f"test = {_toml(r.test)}"]
            if r.test == "range":
                parts += [f"{k} = {_toml(v)}" for k, v in (("min", r.min), ("max", r.max)) if v is not None]
            else:
                parts.append(f"value = {_toml(r.value)}")
            parts.append(f"weight = {_toml(r.weight)}")
            if r.required:
                parts.append("required = true")
            lines.append("  { " + ", ".join(parts) + " },")
        lines.append("]")
    return lines
