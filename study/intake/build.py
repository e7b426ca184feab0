"""`readerstudy new STUDY --from-dicom EXPORT --truth TRUTH.csv --rules RULES.toml`: cases from an export by rules.

One case per patient (or per study), each role filled with the volume its
``[hanging.match.ROLE]`` rules score highest (:mod:`study.intake.rules`).
Files written into the study folder:

* ``study.toml`` with the rules, so a rerun needs no ``--rules``;
* ``matches.csv``: per case and role the chosen volume, its score, the
  runners-up and a ``choice`` column the researcher edits (a volume_id,
  ``none`` to leave an optional role empty in that case, or ``skip`` to leave
  the case out); a rerun keeps every choice;
* ``intake-key.csv``: opaque case code -> PatientID / AccessionNumber /
  StudyInstanceUID.  It and matches.csv identify patients (and, with
  ``--deidentify``, the de-identification secret beside them): :data:`IDENTIFYING`,
  the re-identification key, stays with the study's custodian and is removed
  before the folder is shared (readers see only the codes);
* ``media/CODE/ROLE/``: the chosen volume's files (links, or copies where links
  are not possible, or de-identified copies with ``--deidentify``);
* ``cases.csv``, only when every required role of every case is resolved.

The header index (every file's PatientName, PatientID, AccessionNumber, UIDs and
dates, unmatched series too) is never written into the study folder: it is kept
in the user's cache like ``readerstudy index``'s (:func:`study.intake.index.default_index_path`).

Missing and tied matches are never guessed: they are listed (one line each)
and ``cases.csv`` is not written until the researcher decides in matches.csv.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import random
import secrets
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study.cases import load_cases
from study.csvtable import decimal_commas, delimiter
from study.errors import StudyError
from study.intake.index import ExportIndex, index_export
from study.intake.rules import RoleResult, match_role
from study.intake.volumes import Patient, Volume
from study.protocol import Protocol, load_protocol, parse_protocol, protocol_to_toml

MATCHES = "matches.csv"
NONE, SKIP = "none", "skip"  # choices: leave an optional role empty; leave the case out
KEY = "intake-key.csv"
SECRET = "intake-deid-secret.txt"  # study.intake.deidentify: the seed that makes the pseudonyms repeatable
# The files of an intake study that identify patients: the re-identification key. They stay with the
# study's custodian and are removed before the study folder is shared; nothing else in it identifies
# a patient when the media are de-identified copies.
IDENTIFYING = (KEY, MATCHES, SECRET)
INDEX = "intake-index.sqlite"  # the name an index inside the study folder had before it moved to the user cache
TRUTH_KEYS = ("PatientID", "AccessionNumber", "StudyInstanceUID")
MATCH_COLUMNS = (
    "case",
    "PatientID",
    "AccessionNumber",
    "role",
    "status",
    "volume_id",
    "volume",
    "score",
    "runners_up",
    "choice",
)


@dataclass(frozen=True)
class Unit:
    """What becomes one case: a patient (all studies) or one study."""

    key: str  # PatientID, or PatientID/StudyInstanceUID
    patient_id: str
    accessions: tuple[str, ...]
    study_uids: tuple[str, ...]
    volumes: tuple[Volume, ...]


@dataclass(frozen=True)
class CaseMatch:
    code: str
    unit: Unit
    truth: str
    results: tuple[RoleResult, ...]
    choices: dict  # role -> the researcher's choice ("" = accept)

    def decided(self, role: str) -> Volume | None:
        """The volume the role shows in this case: the researcher's choice, else the rules'; None for none/skip."""
        choice = self.choices.get(role, "")
        r = next(x for x in self.results if x.role == role)
        if choice in (NONE, SKIP):
            return None
        if choice:
            return next((v for v in self.unit.volumes if v.volume_id == choice), None)
        return r.chosen

    def left_empty(self, role: str) -> bool:
        """The researcher wrote ``none``: this case has no volume for this (optional) role."""
        return self.choices.get(role, "") == NONE

    @property
    def skipped(self) -> bool:
        return any(c == SKIP for c in self.choices.values())


@dataclass(frozen=True)
class BuildResult:
    protocol: Protocol
    cases: tuple[CaseMatch, ...]
    flagged: tuple[str, ...]  # one line per unresolved cell
    notes: tuple[str, ...]
    index: ExportIndex
    wrote_cases: bool


def units_of(patients: tuple[Patient, ...], per: str) -> list[Unit]:
    out = []
    for p in patients:
        if per == "study":
            out += [
                Unit(f"{p.patient_id}/{s.study_uid}", p.patient_id, (s.accession,), (s.study_uid,), s.volumes)
                for s in p.studies
            ]
        else:
            out.append(
                Unit(
                    p.patient_id,
                    p.patient_id,
                    tuple(s.accession for s in p.studies),
                    tuple(s.study_uid for s in p.studies),
                    p.volumes,
                )
            )
    return out


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    header, rows, _ = _read_table(path)
    return header, rows


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]], str]:
    """(header, rows, the separator: ',' or, when the header line says so, ';' as in study.csvtable)."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise StudyError([f"{path}: file not found"]) from None
    except UnicodeDecodeError as err:
        raise StudyError([f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8 CSV"]) from None
    sep = delimiter(text)  # ';' from Excel where the decimal separator is a comma (study.csvtable)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sep)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    return header, [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader], sep


def read_truth_by_key(truth_csv: Path, key: str, column: str | None) -> dict[str, str]:
    """{key value: truth} from a CSV with the key column and ``truth``; every problem named by row."""
    column = column or key
    header, rows, sep = _read_table(truth_csv)
    missing = [c for c in (column, "truth") if c not in header]
    if missing:
        raise StudyError(
            [f"{truth_csv}: header: missing column {c!r} (columns are {', '.join(header) or 'none'})" for c in missing]
        )
    problems = []
    if sep == ";":  # a decimal comma in the truth is a decimal point (9,5 is 9.5); ambiguous numbers are refused
        problems += decimal_commas(truth_csv, list(enumerate(rows, start=2)), key=column).values()
    out: dict[str, str] = {}
    for n, row in enumerate(rows, start=2):
        value = row.get(column, "")
        if not value:
            problems.append(f"{truth_csv}: row {n}: {column} is empty")
        elif value in out:
            problems.append(f"{truth_csv}: row {n}: {column} {value!r} appears twice")
        else:
            out[value] = row.get("truth", "")
    if problems:
        raise StudyError(problems)
    return out


def _unit_values(unit: Unit, key: str) -> tuple[str, ...]:
    if key == "PatientID":
        return (unit.patient_id,)
    return unit.accessions if key == "AccessionNumber" else unit.study_uids


def _load_key(study_dir: Path) -> dict[str, str]:
    """unit key -> case code from intake-key.csv (so codes survive reruns)."""
    path = study_dir / KEY
    if not path.exists():
        return {}
    _, rows = _read_csv(path)
    return {r["unit"]: r["case"] for r in rows if r.get("unit") and r.get("case")}


def assign_codes(units: list[Unit], known: dict[str, str], seed: int) -> dict[str, str]:
    """Opaque case codes: kept from earlier runs; new units numbered in a seeded random order."""
    codes = dict(known)
    used = {int(c[1:]) for c in codes.values() if c[1:].isdigit()}
    new = [u.key for u in sorted(units, key=lambda u: u.key) if u.key not in codes]
    random.Random(seed).shuffle(new)
    n = max(used, default=0)
    for k in new:
        n += 1
        codes[k] = f"C{n:04d}"
    return codes


def _load_choices(study_dir: Path) -> dict[tuple[str, str], str]:
    path = study_dir / MATCHES
    if not path.exists():
        return {}
    _, rows = _read_csv(path)
    return {(r.get("case", ""), r.get("role", "")): r.get("choice", "") for r in rows if r.get("choice")}


def _protocol(
    study_dir: Path,
    rules_toml: Path | None,
    *,
    seed: int | None,
    design: str,
    washout_days: int,
    labels: tuple[str, str],
    groups: tuple[str, ...],
) -> Protocol:
    existing = study_dir / "study.toml"
    if existing.exists():
        if not (study_dir / MATCHES).exists():
            raise StudyError(
                [
                    (
                        f"{existing}: already exists and is not an intake study (no {MATCHES}); "
                        "choose an empty study folder"
                    )
                ]
            )
        if rules_toml is not None:
            raise StudyError([f"{existing}: the rules are in study.toml now; edit them there instead of --rules"])
        return load_protocol(study_dir)
    if rules_toml is None:
        raise StudyError(
            [("--rules: required for a new study (a TOML file with [hanging] roles and [hanging.match.ROLE] rules)")]
        )
    return rules_protocol(
        rules_toml,
        study_dir.name,
        seed=seed,
        design=design,
        washout_days=washout_days,
        labels=labels,
        groups=groups,
    )


def rules_protocol(
    rules_toml: Path,
    study_id: str,
    *,
    seed: int | None = None,
    design: str = "sequential",
    washout_days: int = 28,
    labels: tuple[str, str] = ("negative", "positive"),
    groups: tuple[str, ...] = (),
) -> Protocol:
    """A binary protocol around the rules file's ``[hanging]`` (roles and match rules), checked."""
    try:
        data = tomllib.loads(Path(rules_toml).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyError([f"{rules_toml}: file not found"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise StudyError([f"{rules_toml}: invalid TOML: {err}"]) from None
    if "hanging" not in data:
        raise StudyError([f"{rules_toml}: [hanging]: missing table (roles and match rules)"])
    doc = {
        "study": {
            "id": study_id,
            "title": study_id,
            "design": design,
            "washout_days": washout_days,
            "seed": seed if seed is not None else secrets.randbelow(2**31),
        },
        "readers": {"groups": list(groups)},
        "task": {"kind": "binary", "question": "Positive?", "labels": list(labels)},
        "hanging": data["hanging"],
    }
    protocol = parse_protocol(doc, str(rules_toml))
    unmatched = [r for r in protocol.hanging.roles if r not in {m.role for m in protocol.hanging.match}]
    if unmatched:
        raise StudyError([f"{rules_toml}: hanging.match.{r}: no rules for this role" for r in unmatched])
    return protocol


def remove_old_index(study_dir: Path) -> list[str]:
    """Delete a header index an earlier version kept inside the study folder (it names every
    patient of the export); the index lives in the user's cache now. Returns a note per file."""
    out = []
    for name in (INDEX, INDEX + "-wal", INDEX + "-shm", INDEX + "-journal"):
        path = Path(study_dir) / name
        if path.is_file():
            path.unlink()
            out.append(f"{path}: removed (a header index naming every patient; it is kept in the user's cache now)")
    return out


def _flag_lines(cm: CaseMatch, rm_optional: dict[str, bool]) -> list[str]:
    out = []
    if cm.skipped:
        return out
    for r in cm.results:
        choice = cm.choices.get(r.role, "")
        if choice == NONE:
            if not rm_optional.get(r.role):
                out.append(
                    f"{cm.code} / {r.role}: choice 'none' is only for an optional role (optional = true); "
                    "this role is required: write a volume_id, or skip to leave the case out"
                )
            continue
        if choice:
            if cm.decided(r.role) is None:
                out.append(
                    f"{cm.code} / {r.role}: choice {choice!r} is not a volume of this case "
                    "(use a volume_id from matches.csv, or skip)"
                )
            continue
        who = f"{cm.code} / {r.role}"
        if r.status == "missing":
            if rm_optional.get(r.role):
                out.append(
                    f"{who}: no volume matches the rules (optional role); write a volume_id, none (leave the role "
                    "empty in this case) or skip (leave the case out) in the choice column"
                )
            else:
                out.append(f"{who}: no volume matches the rules; write a volume_id or skip in the choice column")
        elif r.status == "tied":
            best = [c for c in r.candidates if c.score == r.score]
            out.append(
                f"{who}: tied at score {r.score:g} between "
                + ", ".join(f"{c.volume.volume_id} ({c.volume.label()})" for c in best)
                + "; write one volume_id in the choice column"
            )
    return out


def _match_rows(cases: list[CaseMatch]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(MATCH_COLUMNS)
    for cm in sorted(cases, key=lambda c: c.code):
        for r in cm.results:
            chosen = cm.decided(r.role)
            choice = cm.choices.get(r.role, "")
            status = SKIP if cm.skipped else (NONE if choice == NONE else "chosen" if choice else r.status)
            runners = [c for c in r.candidates if chosen is None or c.volume.volume_id != chosen.volume_id][:3]
            score = next(
                (c.score for c in r.candidates if chosen is not None and c.volume.volume_id == chosen.volume_id), None
            )
            w.writerow(
                [
                    cm.code,
                    cm.unit.patient_id,
                    ";".join(a for a in cm.unit.accessions if a),
                    r.role,
                    status,
                    chosen.volume_id if chosen else "",
                    chosen.label() if chosen else "",
                    "" if score is None else f"{score:g}",
                    "; ".join(f"{c.volume.volume_id} {c.volume.label()} score {c.score:g}" for c in runners),
                    cm.choices.get(r.role, ""),
                ]
            )
    return buf.getvalue()


def _write_key(study_dir: Path, codes: dict[str, str], units: dict[str, Unit]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["case", "unit", "PatientID", "AccessionNumber", "StudyInstanceUID"])
    for key, code in sorted(codes.items(), key=lambda kv: kv[1]):
        u = units.get(key)
        w.writerow(
            [
                code,
                key,
                u.patient_id if u else "",
                ";".join(u.accessions) if u else "",
                ";".join(u.study_uids) if u else "",
            ]
        )
    (study_dir / KEY).write_text(buf.getvalue(), encoding="utf-8")


def link_volume(volume: Volume, folder: Path) -> None:
    """``folder`` holds exactly the volume's files: symbolic links, or copies where links fail."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i, src in enumerate(volume.files):
        dst = folder / f"{i + 1:05d}.dcm"
        try:
            os.symlink(os.path.abspath(src), dst)
        except OSError:
            shutil.copy2(src, dst)


Materialize = Callable[[Volume, Path, str], None]  # (volume, target folder, case code)


def build_from_dicom(
    study_dir: str | os.PathLike[str],
    export_dir: str | os.PathLike[str],
    truth_csv: Path,
    *,
    rules_toml: Path | None = None,
    truth_key: str = "PatientID",
    truth_column: str | None = None,
    per: str = "patient",
    seed: int | None = None,
    design: str = "sequential",
    washout_days: int = 28,
    labels: tuple[str, str] = ("negative", "positive"),
    groups: tuple[str, ...] = (),
    materialize: Materialize | None = None,
    progress=None,
    cancelled: Callable[[], bool] = lambda: False,
    index_path: Path | None = None,
) -> BuildResult:
    """Index, match, write matches.csv; write cases.csv when nothing is left to decide.

    ``index_path``: where the header index is kept (default: the user's cache, as
    ``readerstudy index`` keeps it); never the study folder, which may be shared.
    """
    study_dir = Path(study_dir).resolve()
    if truth_key not in TRUTH_KEYS:
        raise StudyError([f"--truth-key: {truth_key!r} is not one of {', '.join(TRUTH_KEYS)}"])
    if per not in ("patient", "study"):
        raise StudyError([f"--case-per: {per!r} is not patient or study"])
    protocol = _protocol(
        study_dir, rules_toml, seed=seed, design=design, washout_days=washout_days, labels=labels, groups=groups
    )
    read_truth_by_key(truth_csv, truth_key, truth_column)  # its problems before any file is written
    study_dir.mkdir(parents=True, exist_ok=True)
    known = _load_key(study_dir)
    result, codes, units = match_export(
        export_dir,
        truth_csv,
        protocol,
        truth_key=truth_key,
        truth_column=truth_column,
        per=per,
        choices=_load_choices(study_dir),
        known_codes=known,
        progress=progress,
        cancelled=cancelled,
        index_path=index_path,
    )
    result = dataclasses.replace(result, notes=result.notes + tuple(remove_old_index(study_dir)))
    matches = list(result.cases)
    if not (study_dir / "study.toml").exists():
        (study_dir / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    (study_dir / MATCHES).write_text(_match_rows(matches), encoding="utf-8")
    _write_key(study_dir, codes, {u.key: u for u in units})
    if result.flagged:
        return result
    _write_cases(
        study_dir,
        protocol,
        [m for m in matches if not m.skipped],
        materialize or (lambda v, folder, code: link_volume(v, folder)),
    )
    return dataclasses.replace(result, wrote_cases=True)


def match_export(
    export_dir: str | os.PathLike[str],
    truth_csv: Path,
    protocol: Protocol,
    *,
    truth_key: str = "PatientID",
    truth_column: str | None = None,
    per: str = "patient",
    choices: dict[tuple[str, str], str] | None = None,
    known_codes: dict[str, str] | None = None,
    progress=None,
    cancelled: Callable[[], bool] = lambda: False,
    index_path: Path | None = None,
) -> tuple[BuildResult, dict[str, str], list[Unit]]:
    """Index the export (into the user's cache) and match every case's roles by ``protocol``'s rules,
    with the researcher's ``choices`` ((case code, role) -> volume_id / none / skip); writes nothing
    else anywhere.  Returns (the result, never ``wrote_cases``; unit key -> case code; every unit)."""
    if truth_key not in TRUTH_KEYS:
        raise StudyError([f"--truth-key: {truth_key!r} is not one of {', '.join(TRUTH_KEYS)}"])
    if per not in ("patient", "study"):
        raise StudyError([f"--case-per: {per!r} is not patient or study"])
    choices = choices or {}
    truth = read_truth_by_key(truth_csv, truth_key, truth_column)
    idx = index_export(export_dir, index_path, progress=progress, cancelled=cancelled)
    if idx.cancelled:
        raise StudyError([f"{export_dir}: indexing cancelled; run again to resume"])
    units = units_of(idx.patients, per)
    notes = [f"{f}: broken DICOM object: {c}" for f, c in idx.broken]
    taken: dict[str, Unit] = {}
    problems = []
    for value in truth:
        hits = [u for u in units if value in _unit_values(u, truth_key)]
        if not hits:
            problems.append(f"{truth_csv}: {truth_key} {value!r}: no {per} with this value in {export_dir}")
        elif len(hits) > 1:
            problems.append(
                f"{truth_csv}: {truth_key} {value!r}: matches {len(hits)} {per}s; use --case-per study "
                "or another --truth-key"
            )
        else:
            taken[hits[0].key] = hits[0]
    if problems:
        raise StudyError(problems)
    notes += [f"{per} {u.key}: not in the truth table, left out" for u in units if u.key not in taken]
    codes = assign_codes(list(taken.values()), known_codes or {}, protocol.seed)
    truth_of = {u.key: truth[next(v for v in _unit_values(u, truth_key) if v in truth)] for u in taken.values()}
    rules = {rm.role: rm for rm in protocol.hanging.match}
    roles = protocol.hanging.roles
    matches = [
        CaseMatch(
            codes[u.key],
            u,
            truth_of[u.key],
            tuple(match_role(rules[r], u.volumes) for r in roles),
            {r: choices.get((codes[u.key], r), "") for r in roles},
        )
        for u in taken.values()
    ]
    optional = {rm.role: rm.optional for rm in protocol.hanging.match}
    flagged = [line for m in sorted(matches, key=lambda m: m.code) for line in _flag_lines(m, optional)]
    return BuildResult(protocol, tuple(matches), tuple(flagged), tuple(notes), idx, False), codes, units


def write_key_files(study_dir: Path, result: BuildResult) -> None:
    """matches.csv and intake-key.csv of a result (the wizard's Create; the CLI writes them as it goes)."""
    (Path(study_dir) / MATCHES).write_text(_match_rows(list(result.cases)), encoding="utf-8")
    _write_key(Path(study_dir), {c.unit.key: c.code for c in result.cases}, {c.unit.key: c.unit for c in result.cases})


def patient_codes(matches: list[CaseMatch]) -> dict[str, str]:
    """patient_id of cases.csv: a patient's cases (--case-per study) grouped under an opaque code,
    the patient's first case code."""
    out: dict[str, str] = {}
    for m in sorted(matches, key=lambda m: m.code):
        out.setdefault(m.unit.patient_id, m.code)
    return out


def _write_cases(study_dir: Path, protocol: Protocol, matches: list[CaseMatch], materialize: Materialize) -> None:
    roles = protocol.hanging.roles
    media = study_dir / "media"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["case_id", "truth", "patient_id", *roles])
    patient_code = patient_codes(matches)
    for m in sorted(matches, key=lambda m: m.code):
        row = []
        for role in roles:
            if m.left_empty(role):  # an optional role the researcher resolved as none
                row.append("")
                continue
            v = m.decided(role)
            assert v is not None  # every cell is resolved before cases.csv is written
            materialize(v, media / m.code / role, m.code)
            row.append(f"media/{m.code}/{role}")
        w.writerow([m.code, m.truth, patient_code[m.unit.patient_id], *row])
    (study_dir / "cases.csv").write_text(buf.getvalue(), encoding="utf-8")
    load_cases(study_dir, protocol)  # the same checks as `validate`


def write_choices(study_dir: str | os.PathLike[str], choices: dict[tuple[str, str], str]) -> None:
    """Set the ``choice`` column of matches.csv for (case code, role) cells; other cells keep theirs."""
    path = Path(study_dir) / MATCHES
    header, rows = _read_csv(path)
    for row in rows:
        cell = (row.get("case", ""), row.get("role", ""))
        if cell in choices:
            row["choice"] = choices[cell]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
