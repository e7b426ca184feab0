"""Write a study (study.toml + cases.csv) from a folder of cases and a truth table.

The folder holds, per case id, either a file named after the case (a photo,
a DICOM file, a video) or a folder named after the case: a DICOM series, or
one sub-folder / file per viewport role (e.g. ``C001/T2axi/``,
``C001/T2sag/``, ``C001/DWI/``).  Roles must be the same for every case.

Files are recognised by their content, not their name (``study.media.detect_kind``
reads the first 132 bytes): a case folder whose files are all DICOM is one
series role whatever the files are called (Siemens ``*.IMA``, storescp's
``MR.<SOP UID>``, ``IM0001``, ``1.2.840....dcm``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import secrets
import shutil
import stat
from collections import Counter
from pathlib import Path

from study.cases import load_cases, truth_problem
from study.csvtable import read_case_rows
from study.errors import StudyError
from study.media import MediaError, detect_kind
from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml

VIDEO = {".mp4", ".avi", ".mov", ".mkv"}
# How a new study gets its media: copied into STUDY_DIR/media (a self-contained, movable folder),
# symbolic links there (no second copy; the originals must stay), or left where they are.
MEDIA_MODES = ("copy", "link", "in-place")


# Label pairs that say by themselves which is positive (lower case: negative, positive).
PLAIN_PAIRS = (("0", "1"), ("false", "true"), ("no", "yes"), ("negative", "positive"), ("absent", "present"))


def plain_order(labels: tuple[str, ...] | list[str]) -> tuple[str, str] | None:
    """(negative, positive) of two labels that say which is positive (0/1, no/yes, absent/present,
    ... in any case), else None: for other words (glaucoma / normal) only the researcher knows."""
    if len(labels) != 2:
        return None
    a, b = labels
    for neg, pos in PLAIN_PAIRS:
        if (a.lower(), b.lower()) == (neg, pos):
            return a, b
        if (b.lower(), a.lower()) == (neg, pos):
            return b, a
    return None


def label_counts(truths: list[str] | tuple[str, ...]) -> dict[str, int]:
    """label -> number of cases with it (empty truths left out), labels in alphabetical order."""
    counts = Counter(t for t in truths if t)
    return {label: counts[label] for label in sorted(counts)}


def binary_labels(
    truth_csv: Path, labels: tuple[str, str] | None = None, positive: str | None = None
) -> tuple[str, str]:
    """(negative, positive) labels of a binary study from its truth table: ``labels`` when given
    (the researcher's order), else the table's words when they say which is positive (0/1, no/yes,
    absent/present, ...), else the table's two labels with ``positive`` as the positive one.

    Raises StudyError naming the table and the labels found (with their counts) when the words do
    not say which is positive and ``positive`` is not one of them: never an alphabetical guess,
    which would silently swap sensitivity and specificity."""
    if labels is not None:
        if positive is not None and positive != labels[1]:
            raise StudyError(
                [
                    f"{truth_csv}: --positive {positive!r} contradicts --labels {labels[0]} {labels[1]} "
                    f"(the second of --labels is the positive one): give one of them"
                ]
            )
        return labels
    truths = [t for _, t, _ in read_truth(truth_csv)]
    counts = label_counts([t for t in truths if t not in ("0", "1")])
    found = tuple(counts)
    shown = ", ".join(f"{label!r} ({n} case{'s' * (n != 1)})" for label, n in counts.items())
    if positive is not None:
        if positive in found and len(found) <= 2:
            others = [label for label in found if label != positive]
            return (others[0] if others else "negative"), positive
        if not found:  # 0/1 truth says it itself
            raise StudyError([f"{truth_csv}: the truth is 0/1 (1 is positive): --positive is for word labels"])
        why = "is not one of the truth labels"
        folded = {" ".join(label.split()).casefold() for label in found}
        if len(folded) < len(found):  # 'Glaucoma', 'glaucoma ', ...: one label written several ways
            why = "cannot be told apart: labels differ only in upper/lower case or spaces; write each one way"
        elif len(found) > 2:
            why = "needs two truth labels, the table has more"
        raise StudyError([f"{truth_csv}: --positive {positive!r} {why}: {shown}"])
    if len(found) != 2 or any(t in ("0", "1") for t in truths):
        # 0/1 (words among them are typos), or not two labels: each bad row is named by read_truth
        return "negative", "positive"
    order = plain_order(found)
    if order:
        return order
    raise StudyError(
        [
            f"{truth_csv}: truth labels {shown}: which is positive (the disease)? "
            f"Pass --positive {found[0]} or --positive {found[1]} (or --labels NEGATIVE POSITIVE)"
        ]
    )


def read_truth(truth_csv: Path, task: Task | None = None) -> list[tuple[str, str, str]]:
    """(case_id, truth, patient_id) rows from a CSV with columns case_id, truth[, patient_id].

    With ``task``, every truth must be one of the task's (a row naming this CSV, not the
    ``cases.csv`` written from it)."""
    _, table, problems = read_case_rows(Path(truth_csv), ("case_id", "truth"))
    rows = [(v["case_id"], v["truth"], v.get("patient_id") or v["case_id"]) for _, v in table]
    if task is not None:
        for line_no, v in table:
            cause = truth_problem(task, v["truth"])
            if cause:
                problems.append(f"{truth_csv}: row {line_no} ({v['case_id']}): {cause}")
    if problems:
        raise StudyError(problems)
    return rows


def _kind(path: Path) -> str | None:
    """ "image" | "dicom" | "video" from the file's first bytes, or None when unknown or unreadable."""
    try:
        return detect_kind(path)
    except MediaError:
        return None


def _role_of_file(path: Path, kind: str | None) -> str:
    return "video" if kind == "video" else path.stem


def find_case_media(media_dir: Path, case_id: str) -> dict[str, Path]:
    """role -> path for one case, or {} when nothing is found.

    A case folder of DICOM files only (by content) is one ``series`` role;
    files that are neither image, DICOM nor video (a README, a zero-byte file)
    are not roles, so a series with a stray bad file is still found here and
    ``validate`` names the bad file.
    """
    folder = media_dir / case_id
    if folder.is_dir():
        children = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        subdirs = [p for p in children if p.is_dir()]
        if subdirs:
            return {p.name: p for p in subdirs}
        files = [p for p in children if p.is_file() and p.name.upper() != "DICOMDIR"]
        kinds = {p: _kind(p) for p in files}
        known = [p for p in files if kinds[p] is not None]
        if known and all(kinds[p] == "dicom" for p in known):
            return {"series": folder}
        return {_role_of_file(p, kinds[p]): p for p in known}
    files = sorted(p for p in media_dir.glob(f"{case_id}.*") if p.is_file())
    exact = media_dir / case_id
    if exact.is_file():
        files.append(exact)
    if len(files) == 1:
        kind = _kind(files[0])
        return {"video" if kind == "video" else "image": files[0]}
    return {}


def media_without_truth(media_dir: Path, case_ids: list[str]) -> list[str]:
    """Names in ``media_dir`` that no case of the truth table claims (``CID.*`` or ``CID/``),
    hidden files and a DICOMDIR aside: cases left out of the study, to be told, not guessed."""
    claimed = set(case_ids)
    return [
        p.name
        for p in sorted(Path(media_dir).iterdir())
        if not p.name.startswith(".")
        and p.name.upper() != "DICOMDIR"
        and p.name not in claimed
        and (p.is_dir() or p.name.split(".", 1)[0] not in claimed)
    ]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def bring_media(
    study_dir: Path,
    media_dir: Path | None,
    case_media: dict[str, dict[str, Path]],
    how: str = "copy",
    into: str = "media",
) -> dict[str, dict[str, Path]]:
    """Copy (or link) every case's media into ``STUDY_DIR/<into>`` (``media``; a region task's
    truth masks go to ``masks``); return case -> role -> new path.

    A file or folder keeps its path under ``media_dir`` (``C017/T2axi/`` stays
    ``media/C017/T2axi/``); media already inside the study folder stay put.
    Without ``media_dir``, the deepest folder holding all of them stands in for it.
    Raises StudyError naming the file when a destination exists or a copy fails.
    """
    if how not in MEDIA_MODES:
        raise StudyError([f"media: {how!r} is not one of {', '.join(MEDIA_MODES)}"])
    if how == "in-place":
        return case_media
    study_dir = Path(study_dir).resolve()
    if media_dir:
        media_dir = Path(media_dir).resolve()
    else:  # the folder all the media sit under keeps the layout below it
        outside = [
            str(Path(p).resolve().parent)
            for roles in case_media.values()
            for p in roles.values()
            if not _inside(Path(p).resolve(), study_dir)
        ]
        media_dir = Path(os.path.commonpath(outside)) if outside else None
    dest_root = study_dir / into
    placed: dict[Path, Path] = {}  # source -> destination, each source once
    out: dict[str, dict[str, Path]] = {}
    for cid, roles in case_media.items():
        out[cid] = {}
        for role, src in roles.items():
            src = Path(src).resolve()
            if _inside(src, study_dir):
                out[cid][role] = src
                continue
            if src not in placed:
                rel = src.relative_to(media_dir) if media_dir and _inside(src, media_dir) else Path(cid) / src.name
                dest = dest_root / rel
                if dest.exists() or dest in placed.values():
                    raise StudyError([f"{dest}: already exists; choose an empty study folder"])
                placed[src] = dest
            out[cid][role] = placed[src]
    for src, dest in placed.items():
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if how == "link":
                dest.symlink_to(src, target_is_directory=src.is_dir())
            elif src.is_dir():
                shutil.copytree(src, dest)
                _owner_writable(dest)
            else:
                shutil.copy2(src, dest)
                _owner_writable(dest)
        except OSError as err:
            raise StudyError([f"{src}: cannot {how} into {dest}: {err.strerror or err}"]) from None
    return out


def _owner_writable(path: Path) -> None:
    """The copies keep the originals' read bits but are the study owner's to move or delete:
    a read-only source (a CD, a shared export) copied as is would leave folders that neither
    the owner nor the roll-back of a failed ``new`` can empty."""
    for p in [path, *(path.rglob("*") if path.is_dir() else ())]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def media_roots_for(study_dir: Path, paths: list[str | Path]) -> tuple[str, ...]:
    """study.toml ``media_roots`` covering every media path outside the study folder (relative to it).

    The common folder of those paths (each file counts by its folder); when they
    share nothing but the file-system root, each distinct folder.  () when all
    media lie inside the study folder.
    """
    study_dir = Path(study_dir).resolve()
    outside = sorted(
        {
            str(p if Path(p).is_dir() else Path(p).parent)
            for p in map(Path, paths)
            if not Path(p).resolve().is_relative_to(study_dir)
        }
    )
    if not outside:
        return ()
    common = os.path.commonpath(outside)
    folders = [common] if len(Path(common).parts) > 1 else outside
    return tuple(os.path.relpath(f, study_dir) for f in folders)


def new_study(
    study_dir: Path,
    media_dir: Path,
    truth_csv: Path,
    *,
    study_id: str | None = None,
    design: str = "sequential",
    washout_days: int = 28,
    seed: int | None = None,
    labels: tuple[str, str] | None = None,
    confidence: str = "0-100",
    groups: tuple[str, ...] = (),
    media: str = "copy",
    positive: str | None = None,
) -> Protocol:
    """Write study.toml and cases.csv for a binary study; return the protocol.

    ``labels`` (negative, positive) or ``positive`` (the truth label that is the disease): see
    :func:`binary_labels`; word labels that do not say which is positive need one of them.
    ``media``: one of MEDIA_MODES (default: copy into the study folder, see :func:`bring_media`).
    """
    study_dir, media_dir = Path(study_dir).resolve(), Path(media_dir).resolve()
    if not media_dir.is_dir():
        raise StudyError([f"{media_dir}: media folder not found"])
    if (study_dir / "study.toml").exists():
        raise StudyError([f"{study_dir / 'study.toml'}: already exists; choose an empty study folder"])
    labels = binary_labels(Path(truth_csv), labels, positive)
    task = Task("binary", "Positive?", labels=labels, confidence=confidence)
    truth_rows = read_truth(truth_csv, task)
    problems, media_rows = [], []
    roles: tuple[str, ...] | None = None
    for cid, truth, patient in truth_rows:
        found = find_case_media(media_dir, cid)
        if not found:
            problems.append(f"{media_dir}: no file or folder for case {cid!r} (expected {cid}.* or {cid}/)")
            continue
        case_roles = tuple(sorted(found))
        if roles is None:
            roles = case_roles
        elif case_roles != roles:
            problems.append(
                f"{media_dir / cid}: roles {', '.join(case_roles)} differ from the first case's ({', '.join(roles)})"
            )
            continue
        media_rows.append((cid, truth, patient, found))
    if roles is not None and len(roles) > 4:
        problems.append(f"{media_dir}: {len(roles)} media per case; at most 4 viewports")
    if problems or roles is None:
        raise StudyError(problems or [f"{truth_csv}: no cases"])
    protocol = Protocol(
        study_id=study_id or study_dir.name,
        title=study_id or study_dir.name,
        design=design,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        washout_days=washout_days,
        groups=groups,
        task=task,
        hanging=HangingProtocol(roles),
    )
    if media not in MEDIA_MODES:
        raise StudyError([f"media: {media!r} is not one of {', '.join(MEDIA_MODES)}"])
    study_dir.mkdir(parents=True, exist_ok=True)
    had_media = (study_dir / "media").exists()
    placed = bring_media(study_dir, media_dir, {cid: found for cid, _, _, found in media_rows}, media)
    media_rows = [(cid, truth, patient, placed[cid]) for cid, truth, patient, _ in media_rows]
    # media left outside the study folder (--media in-place) must be named as a media root, or `validate` refuses it
    protocol = dataclasses.replace(
        protocol, media_roots=media_roots_for(study_dir, [p for *_, found in media_rows for p in found.values()])
    )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["case_id", "truth", "patient_id", *roles])
    for cid, truth, patient, found in media_rows:
        writer.writerow([cid, truth, patient, *(os.path.relpath(found[r], study_dir) for r in roles)])
    (study_dir / "cases.csv").write_text(buf.getvalue(), encoding="utf-8")
    (study_dir / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    try:
        load_cases(study_dir, protocol)  # same checks as `validate`
    except StudyError:
        (study_dir / "cases.csv").unlink()
        (study_dir / "study.toml").unlink()
        if not had_media and media != "in-place":
            shutil.rmtree(study_dir / "media", ignore_errors=True)  # the copies made above, nothing else
        raise
    return protocol
