"""The cases of a demo study as the demo models see them (training, validation, CAM checks).

A specimen study with a ``fields.csv`` (the cytology demo, issue 17) gives one
case per field of view with the field's own class: the model scores fields and
the precompute aggregates them per specimen (``inference.specimen``).  Other
studies give their cases as ``cases.csv`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class CaseData:
    case_id: str
    truth: str
    paths: dict[str, str]  # role -> absolute media path


def read_cases(study: Path) -> list[CaseData]:
    """The study's cases (fields for a specimen study); StudyError if its tables are wrong."""
    from study.cases import load_cases
    from study.protocol import load_protocol

    study = Path(study)
    if (study / "fields.csv").is_file():
        from study.demo.cytology import read_fields

        return [
            CaseData(f["field_id"], f["truth"], {"photo": str((study / f["photo"]).resolve())})
            for f in read_fields(study)
        ]
    return [CaseData(c.case_id, c.truth, dict(c.media)) for c in load_cases(study, load_protocol(study))]
