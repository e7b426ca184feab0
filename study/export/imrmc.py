"""Write reads in the iMRMC input format (FDA/CDRH DIDSR iMRMC, Gallas et al.).

Layout: free-text description lines; ``N0:``, ``N1:``, ``NR:``, ``NM:``
(negative and positive case counts, readers, modalities; optional for
iMRMC 4, needed by other readers such as RJafroc); ``BEGIN DATA:``; then one
``readerID,caseID,modalityID,score`` line per observation, preceded by one
truth line per case: ``-1,caseID,truth,0|1``.  Commas in identifiers would
break the format and become underscores.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _id(v: object) -> str:
    return str(v).replace(",", "_").replace("\n", " ").strip()


def imrmc_text(reads: pd.DataFrame, description: str = "readerstudy export") -> str:
    """The iMRMC file contents for a normalised binary reads table (``rating`` is the score)."""
    truth = reads.drop_duplicates("case")[["case", "truth"]]
    lines = [line for line in description.splitlines() if line.strip()] or ["readerstudy export"]
    lines += [
        f"N0: {int((truth['truth'] == 0).sum())}",
        f"N1: {int((truth['truth'] == 1).sum())}",
        f"NR: {reads['reader'].nunique()}",
        f"NM: {reads['modality'].nunique()}",
        "BEGIN DATA:",
    ]
    lines += [f"-1,{_id(c)},truth,{int(t)}" for c, t in zip(truth["case"], truth["truth"])]
    lines += [
        f"{_id(r)},{_id(c)},{_id(m)},{float(s):g}"
        for r, c, m, s in zip(reads["reader"], reads["case"], reads["modality"], reads["rating"])
    ]
    return "\n".join(lines) + "\n"


def write_imrmc(reads: pd.DataFrame, path: Path, description: str = "readerstudy export") -> Path:
    path = Path(path)
    path.write_text(imrmc_text(reads, description), encoding="utf-8")
    return path


def read_imrmc(path: Path) -> pd.DataFrame:
    """Parse an iMRMC file back to long format (used to check round trips)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = lines.index("BEGIN DATA:") + 1
    rows = [line.split(",") for line in lines[start:] if line.strip()]
    truth = {c: int(float(s)) for r, c, m, s in rows if r == "-1"}
    data = [(r, c, m, float(s)) for r, c, m, s in rows if r != "-1"]
    df = pd.DataFrame(data, columns=["reader", "case", "modality", "rating"])
    df["truth"] = df["case"].map(truth)
    return df
