"""The iMRMC input format (FDA/CDRH DIDSR iMRMC, Gallas et al.): write and read.

Layout: free-text description lines; ``N0:``, ``N1:``, ``NR:``, ``NM:``
(negative and positive case counts, readers, modalities; optional for
iMRMC 4, required by older versions); ``BEGIN DATA:``; then one
``readerID,caseID,modalityID,score`` line per observation, preceded by one
truth line per case: ``-1,caseID,0,0|1`` (iMRMC's own files also write the
reader or the modality of a truth line as ``truth``).  Commas in identifiers
would break the format and become underscores; description lines are
sanitised so no title can contain a line the parser takes for a header key.
Scores are written at full precision (``repr``), so a round trip is exact.

Only iMRMC is named as a consumer: RJafroc reads a different layout (numeric
reader and case IDs) and is not a target of this export.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from study.errors import StudyError

_KEY = re.compile(r"\b(N[R01M])\s*:", re.IGNORECASE)
_BEGIN = re.compile(r"BEGIN\s*DATA", re.IGNORECASE)
TRUTH_IDS = {"-1", "truth"}


def _id(v: object) -> str:
    return str(v).replace(",", "_").replace("\n", " ").strip()


def sanitise_description(text: str) -> list[str]:
    """Description lines with every ``NR:``/``N0:``/``N1:``/``NM:`` and ``BEGIN DATA`` defused."""
    lines = []
    for line in text.splitlines():
        line = _BEGIN.sub("BEGIN-DATA", _KEY.sub(lambda m: f"{m.group(1)} -", line)).strip()
        if line:
            lines.append(line)
    return lines or ["readerstudy export"]


def imrmc_text(reads: pd.DataFrame, description: str = "readerstudy export") -> str:
    """The iMRMC file contents for a normalised binary reads table (``rating`` is the score)."""
    truth = reads.drop_duplicates("case")[["case", "truth"]]
    lines = sanitise_description(description)
    lines += [
        f"N0: {int((truth['truth'] == 0).sum())}",
        f"N1: {int((truth['truth'] == 1).sum())}",
        f"NR: {reads['reader'].nunique()}",
        f"NM: {reads['modality'].nunique()}",
        "BEGIN DATA:",
    ]
    lines += [f"-1,{_id(c)},0,{int(t)}" for c, t in zip(truth["case"], truth["truth"])]
    lines += [
        f"{_id(r)},{_id(c)},{_id(m)},{float(s)!r}"
        for r, c, m, s in zip(reads["reader"], reads["case"], reads["modality"], reads["rating"])
    ]
    return "\n".join(lines) + "\n"


def write_imrmc(reads: pd.DataFrame, path: Path, description: str = "readerstudy export") -> Path:
    path = Path(path)
    path.write_text(imrmc_text(reads, description), encoding="utf-8")
    return path


def read_imrmc(path: Path) -> pd.DataFrame:
    """An iMRMC input file as a long reads table ``reader, case, modality, rating, truth``.

    Truth lines are those whose reader is ``-1`` or ``truth`` (or whose
    modality is ``truth``).  Raises ``StudyError`` naming the file and line for
    a missing ``BEGIN DATA:``, a line without four fields, a non-numeric
    score, or a case without a truth line.
    """
    path = Path(path)
    if not path.is_file():
        raise StudyError([f"{path}: iMRMC file not found"])
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip().upper().startswith("BEGIN DATA")), None)
    if start is None:
        raise StudyError([f"{path}: not an iMRMC file: no 'BEGIN DATA:' line"])
    truth: dict[str, int] = {}
    data = []
    for k, line in enumerate(lines[start + 1 :], start=start + 2):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            raise StudyError([f"{path}: line {k}: expected readerID,caseID,modalityID,score, got {line.strip()!r}"])
        reader, case, modality, score = parts
        try:
            value = float(score)
        except ValueError:
            raise StudyError([f"{path}: line {k}: score {score!r} is not a number"]) from None
        if reader.lower() in TRUTH_IDS or modality.lower() == "truth":
            truth[case] = int(value)
        else:
            data.append((reader, case, modality, value))
    df = pd.DataFrame(data, columns=["reader", "case", "modality", "rating"])
    missing = sorted(set(df["case"]) - set(truth))
    if missing:
        raise StudyError([f"{path}: case {c!r} has no truth line" for c in missing[:10]])
    df["truth"] = df["case"].map(truth)
    return df
