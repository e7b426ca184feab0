"""study.toml and cases.csv: a valid study parses; every malformed one gets an
exact one-line message naming the file, the key or row, and the cause."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from study.cases import load_cases
from study.errors import StudyError
from study.protocol import load_protocol, parse_protocol, protocol_to_toml

VALID = """
[study]
id = "s1"
title = "Sarcoma"
design = "sequential"
washout_days = 28
seed = 11

[readers]
groups = ["specialist", "resident"]

[task]
kind = "binary"
labels = ["myoma", "sarcoma"]
confidence = "1-5"

[hanging]
roles = ["T2axi", "T2sag", "DWI"]
sync = "position"
"""


def problems_of(text: str, tmp_path: Path) -> list[str]:
    (tmp_path / "study.toml").write_text(text)
    with pytest.raises(StudyError) as info:
        load_protocol(tmp_path)
    return info.value.problems


def test_valid_protocol_round_trips(tmp_path):
    (tmp_path / "study.toml").write_text(VALID)
    p = load_protocol(tmp_path)
    assert (p.design, p.washout_days, p.seed, p.task.confidence_range) == ("sequential", 28, 11, (1, 5))
    assert p.hanging.roles == ("T2axi", "T2sag", "DWI") and p.modes == ("unaided", "aided")
    import tomllib

    assert parse_protocol(tomllib.loads(protocol_to_toml(p)), p.source) == p
    assert p.task.consistency == "warn"  # the default: contradictions are shown and recorded


def test_consistency_block_and_concurrent_triage_are_accepted(tmp_path):
    (tmp_path / "study.toml").write_text(
        VALID.replace('confidence = "1-5"', 'confidence = "1-5"\nconsistency = "block"')
    )
    assert load_protocol(tmp_path).task.consistency == "block"
    (tmp_path / "study.toml").write_text(
        VALID.replace('design = "sequential"', 'design = "concurrent"').replace(
            "seed = 11", 'seed = 11\nmode = "triage"'
        )
    )
    assert load_protocol(tmp_path).mode == "triage"
    # The triage queue has an AI-free unaided form (issue 11): sequential triage studies are valid too.
    (tmp_path / "study.toml").write_text(VALID.replace("seed = 11", 'seed = 11\nmode = "triage"'))
    assert load_protocol(tmp_path).modes == ("unaided", "aided")


def test_reading_time_floor_is_set_in_the_protocol(tmp_path):
    (tmp_path / "study.toml").write_text(VALID)
    assert load_protocol(tmp_path).min_read_seconds == 2.0  # the default floor
    (tmp_path / "study.toml").write_text(VALID.replace("seed = 11", "seed = 11\nmin_read_seconds = 3.5"))
    p = load_protocol(tmp_path)
    assert p.min_read_seconds == 3.5 and "min_read_seconds = 3.5" in protocol_to_toml(p)


MALFORMED = [
    (
        "missing study table",
        VALID.replace("[study]", "[studyx]"),
        ["studyx: unknown key", "study: missing required table"],
    ),
    ("missing seed", VALID.replace("seed = 11\n", ""), ["study.seed: missing required key"]),
    ("seed is text", VALID.replace("seed = 11", 'seed = "11"'), ["study.seed: expected int, got str '11'"]),
    ("seed is bool", VALID.replace("seed = 11", "seed = true"), ["study.seed: expected int, got bool True"]),
    (
        "unknown design",
        VALID.replace('"sequential"', '"parallel"'),
        ["study.design: 'parallel' is not one of sequential, crossover, concurrent"],
    ),
    (
        "negative washout",
        VALID.replace("washout_days = 28", "washout_days = -3"),
        ["study.washout_days: must be 0 or more, got -3"],
    ),
    (
        "sequential without washout",
        VALID.replace("washout_days = 28\n", ""),
        ["study.washout_days: missing required key for a sequential design"],
    ),
    (
        "unknown task kind",
        VALID.replace('kind = "binary"', 'kind = "ranking"'),
        ["task.kind: 'ranking' is not one of binary, multiclass, grade_distribution, numeric, region"],
    ),
    (
        "binary with 3 labels",
        VALID.replace('["myoma", "sarcoma"]', '["a", "b", "c"]'),
        ["task.labels: a binary task needs exactly 2 labels (negative, positive), got 3"],
    ),
    ("bad confidence scale", VALID.replace('"1-5"', '"0-10"'), ["task.confidence: '0-10' is not one of 0-100, 1-5"]),
    (
        "too many viewports",
        VALID.replace('["T2axi", "T2sag", "DWI"]', '["a", "b", "c", "d", "e"]'),
        ["hanging.roles: 1 to 4 viewports, got 5"],
    ),
    (
        "duplicate roles",
        VALID.replace('["T2axi", "T2sag", "DWI"]', '["a", "a"]'),
        ["hanging.roles: contains duplicates"],
    ),
    (
        "reserved role",
        VALID.replace('["T2axi", "T2sag", "DWI"]', '["truth"]'),
        ["hanging.roles: 'truth' is a reserved column name"],
    ),
    ("unknown key", VALID.replace("seed = 11", "seed = 11\nwashout = 3"), ["study.washout: unknown key"]),
    (
        "groups not strings",
        VALID.replace('["specialist", "resident"]', "[1, 2]"),
        ["readers.groups: expected a list of non-empty strings"],
    ),
    (
        "multiclass positive not a label",
        VALID.replace(
            'kind = "binary"\nlabels = ["myoma", "sarcoma"]\nconfidence = "1-5"',
            'kind = "multiclass"\nlabels = ["normal", "CIN1", "CIN2+"]\npositive = ["CIN3"]',
        ),
        ["task.positive: 'CIN3' is not one of the labels"],
    ),
    (
        "numeric range reversed",
        VALID.replace(
            'kind = "binary"\nlabels = ["myoma", "sarcoma"]\nconfidence = "1-5"',
            'kind = "numeric"\nunit = "g/dL"\nmin = 20\nmax = 3',
        ),
        ["task.max: max (3) must be greater than min (20)"],
    ),
    (
        "grade distribution without grades",
        VALID.replace(
            'kind = "binary"\nlabels = ["myoma", "sarcoma"]\nconfidence = "1-5"', 'kind = "grade_distribution"'
        ),
        ["task.grades: missing required key"],
    ),
    (
        "unknown consistency policy",
        VALID.replace('confidence = "1-5"', 'confidence = "1-5"\nconsistency = "ask"'),
        ["task.consistency: 'ask' is not one of warn, block"],
    ),
    (
        "consistency on a task without a rating",
        VALID.replace(
            'kind = "binary"\nlabels = ["myoma", "sarcoma"]\nconfidence = "1-5"',
            'kind = "multiclass"\nlabels = ["normal", "CIN1"]\nconsistency = "block"',
        ),
        ["task.consistency: only a binary task has a category and a likelihood to check"],
    ),
    (
        "negative reading-time floor",
        VALID.replace("seed = 11", "seed = 11\nmin_read_seconds = -1"),
        ["study.min_read_seconds: must be 0 (no floor) or more"],
    ),
    (
        "hanging not a table",
        "hanging = 3\n" + VALID.replace('[hanging]\nroles = ["T2axi", "T2sag", "DWI"]\nsync = "position"', ""),
        ["hanging: expected a table, got int"],
    ),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in MALFORMED], ids=[n for n, _, _ in MALFORMED])
def test_malformed_protocol_gives_exact_messages(tmp_path, text, expected):
    path = tmp_path / "study.toml"
    assert problems_of(text, tmp_path) == [f"{path}: {e}" for e in expected]


def test_invalid_toml_and_encoding(tmp_path):
    path = tmp_path / "study.toml"
    problems = problems_of("[study\nid=1", tmp_path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}: invalid TOML: ")
    path.write_bytes(VALID.encode("utf-16"))
    with pytest.raises(StudyError) as info:
        load_protocol(tmp_path)
    assert info.value.problems == [f"{path}: not UTF-8 text (byte 0)"]


def test_missing_protocol_file(tmp_path):
    with pytest.raises(StudyError) as info:
        load_protocol(tmp_path)
    assert info.value.problems == [f"{tmp_path / 'study.toml'}: file not found"]


def _cases_problems(study: Path, text: str | bytes) -> list[str]:
    path = study / "cases.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(StudyError) as info:
        load_cases(study, load_protocol(study))
    return info.value.problems


CASES_BAD = [
    (
        "missing column",
        "case_id,truth,photo\nK000,0,media/K000.png\n",
        ["{p}: header: missing column 'patient_id' (columns are case_id, truth, photo)"],
    ),
    (
        "duplicate case id",
        "case_id,truth,patient_id,photo\nK000,0,P0,media/K000.png\nK000,1,P1,media/K001.png\n",
        ["{p}: row 3: duplicate case_id 'K000' (first on row 2)"],
    ),
    (
        "missing media",
        "case_id,truth,patient_id,photo\nK000,0,P0,media/nothere.png\n",
        ["{p}: row 2 (K000): photo: media not found: {d}/media/nothere.png"],
    ),
    (
        "bad truth",
        "case_id,truth,patient_id,photo\nK000,maybe,P0,media/K000.png\n",
        ["{p}: row 2 (K000): truth 'maybe' is not 0, 1, 'absent' or 'present'"],
    ),
    ("empty truth", "case_id,truth,patient_id,photo\nK000,,P0,media/K000.png\n", ["{p}: row 2 (K000): truth is empty"]),
    (
        "extra values",
        "case_id,truth,patient_id,photo\nK000,0,P0,media/K000.png,x\n",
        ["{p}: row 2: more values than columns"],
    ),
    ("no cases", "case_id,truth,patient_id,photo\n", ["{p}: no cases"]),
    (
        "latin-1 bytes",
        "case_id,truth,patient_id,photo\nK000,0,Gr\xfcn,media/K000.png\n".encode("latin-1"),
        ["{p}: line 2: not UTF-8 text (invalid byte 0xfc at offset 40); save it as UTF-8 CSV"],
    ),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in CASES_BAD], ids=[n for n, _, _ in CASES_BAD])
def test_malformed_case_table_gives_exact_messages(tmp_path, make_study, text, expected):
    study = make_study(tmp_path / "s", n_cases=2)
    p = study / "cases.csv"
    assert _cases_problems(study, text) == [e.format(p=p, d=study.resolve()) for e in expected]


def test_validate_command(tmp_path, make_study):
    study = make_study(tmp_path / "s", n_cases=3)
    ok = subprocess.run([sys.executable, "-m", "app.cli", "validate", str(study)], capture_output=True, text=True)
    assert ok.returncode == 0 and "valid" in ok.stdout
    (study / "media" / "K001.png").unlink()
    bad = subprocess.run([sys.executable, "-m", "app.cli", "validate", str(study)], capture_output=True, text=True)
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert lines == [
        f"error: {study / 'cases.csv'}: row 3 (K001): photo: media not found: {study.resolve()}/media/K001.png"
    ]
    assert "Traceback" not in bad.stderr
