"""Cases from a PACS-like export by rules: matches.csv, flagged missing/tied cells, kept choices, opaque codes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from study.cases import load_cases
from study.errors import ProblemList, StudyError
from study.intake.build import build_from_dicom, write_choices
from study.intake.index import index_export
from study.intake.rules import match_role, parse_match
from study.media import load
from study.protocol import load_protocol
from tests.intake.conftest import build_export, cli

RULES = """
[hanging]
roles = ["T2axi", "T2sag", "DWI"]

[hanging.match.T2axi]
rules = [
  { attribute = "SeriesDescription", test = "regex", value = "(?i)t2", weight = 2 },
  { attribute = "orientation", test = "equals", value = "axial", weight = 3, required = true },
]

[hanging.match.T2sag]
rules = [
  { attribute = "SeriesDescription", test = "contains", value = "t2", weight = 2 },
  { attribute = "orientation", test = "equals", value = "sagittal", weight = 3, required = true },
]

[hanging.match.DWI]
prefer = "highest_b_value"
rules = [
  { attribute = "SeriesDescription", test = "regex", value = "(?i)(diff|dwi)", weight = 2, required = true },
  { attribute = "b_value", test = "range", min = 0, max = 3000, weight = 1 },
]
"""


@pytest.fixture
def export(tmp_path) -> tuple[Path, Path, Path]:
    build_export(tmp_path / "export")
    (tmp_path / "rules.toml").write_text(RULES)
    (tmp_path / "truth.csv").write_text("PatientID,truth\nPAT1,1\nPAT2,0\n")
    return tmp_path / "export", tmp_path / "rules.toml", tmp_path / "truth.csv"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_missing_is_flagged_then_the_researchers_choice_builds_the_study(tmp_path, export):
    exp, rules, truth = export
    study = tmp_path / "study"
    r = cli("new", study, "--from-dicom", exp, "--truth", truth, "--rules", rules, "--seed", "11")
    assert r.returncode == 1, r.stderr
    decide = [line for line in r.stderr.splitlines() if line.startswith("decide: ")]
    assert len(decide) == 1 and "/ T2sag: no volume matches the rules" in decide[0]
    assert not (study / "cases.csv").exists()
    table = rows(study / "matches.csv")
    by = {(row["PatientID"], row["role"]): row for row in table}
    assert by[("PAT1", "DWI")]["volume"] == "#4 ep2d_diff_b0_1000 axial b=1000 (5 images)"
    assert "b=0" in by[("PAT1", "DWI")]["runners_up"] and by[("PAT1", "DWI")]["status"] == "ok"
    assert by[("PAT2", "DWI")]["volume"].startswith("#4 DWI axial b=800")
    assert by[("PAT1", "T2sag")]["volume"].startswith("#3 t2_tse_sag sagittal")
    assert by[("PAT2", "T2sag")]["status"] == "missing" and by[("PAT2", "T2sag")]["volume_id"] == ""
    # The researcher decides: PAT2's T2sag is its axial T2 (written into the choice column).
    for row in table:
        if (row["PatientID"], row["role"]) == ("PAT2", "T2sag"):
            row["choice"] = by[("PAT2", "T2axi")]["volume_id"]
    with open(study / "matches.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    ok = cli("new", study, "--from-dicom", exp, "--truth", truth)
    assert ok.returncode == 0, ok.stderr
    protocol = load_protocol(study)
    assert protocol.hanging.roles == ("T2axi", "T2sag", "DWI") and protocol.seed == 11
    cases = load_cases(study, protocol)
    assert len(cases) == 2
    code1 = by[("PAT1", "DWI")]["case"]
    case1 = next(c for c in cases if c.case_id == code1)
    assert case1.truth == "1" and case1.patient_id == code1
    dwi = load(case1.media["DWI"])
    assert dwi.n_frames == 5 and dwi.slice_positions == (0.0, 3.0, 6.0, 9.0, 12.0)
    assert load(case1.media["T2sag"]).n_frames == 5
    text = (study / "cases.csv").read_text()
    assert "PAT" not in text and "Doe" not in text and "ACC" not in text
    assert rows(study / "matches.csv")[0].keys() >= {"choice", "runners_up", "score"}
    kept = {(row["PatientID"], row["role"]): row for row in rows(study / "matches.csv")}
    assert kept[("PAT2", "T2sag")]["status"] == "chosen" and kept[("PAT2", "T2sag")]["choice"]
    again = cli("new", study, "--from-dicom", exp, "--truth", truth)
    assert again.returncode == 0, again.stderr
    assert {(row["PatientID"], row["role"]): row for row in rows(study / "matches.csv")} == kept
    assert cli("validate", study, "--quiet").returncode == 0


def test_a_tie_is_flagged_never_guessed(tmp_path, export):
    exp, rules, truth = export
    rules.write_text(RULES.replace('prefer = "highest_b_value"\n', ""))
    result = build_from_dicom(tmp_path / "s", exp, truth, rules_toml=rules, seed=1)
    assert not result.wrote_cases
    ties = [f for f in result.flagged if "/ DWI: tied at score 3 between" in f]
    assert len(ties) == 2 and all("b=0" in t and ("b=1000" in t or "b=800" in t) for t in ties)


def test_codes_are_opaque_and_stable_and_truth_can_be_keyed_by_accession(tmp_path, export):
    exp, rules, _ = export
    (tmp_path / "acc.csv").write_text("acc,truth\nACC1,1\n")
    result = build_from_dicom(
        tmp_path / "s",
        exp,
        tmp_path / "acc.csv",
        rules_toml=rules,
        seed=3,
        truth_key="AccessionNumber",
        truth_column="acc",
    )
    assert [c.unit.patient_id for c in result.cases] == ["PAT1"]
    assert result.wrote_cases and [c.code for c in result.cases] == ["C0001"]
    assert any("not in the truth table, left out" in n for n in result.notes)
    key = rows(tmp_path / "s" / "intake-key.csv")
    assert key[0]["case"] == "C0001" and key[0]["PatientID"] == "PAT1"


def test_rules_are_checked_with_the_key_named():
    problems = ProblemList("study.toml")
    parse_match(
        {"DWI": {"rules": [{"attribute": "Colour", "test": "near", "value": 1, "weight": 0}]}, "T9": {"rules": []}},
        ("DWI",),
        problems,
    )
    assert problems.items == [
        (
            "study.toml: hanging.match.DWI.rules[0]: attribute 'Colour' is not one of SeriesDescription, ProtocolName, "
            "SequenceName, Modality, SeriesNumber, BodyPartExamined, orientation, b_value, echo, temporal, kind, n_images"
        ),
        "study.toml: hanging.match.DWI.rules[0]: test 'near' is not one of equals, contains, regex, range",
        "study.toml: hanging.match.DWI.rules[0]: weight must be a number > 0",
        "study.toml: hanging.match.T9: 'T9' is not one of hanging.roles (DWI)",
    ]


def test_localizers_are_candidates_only_when_a_rule_names_kind(tmp_path):
    build_export(tmp_path / "e")
    vols = index_export(tmp_path / "e", tmp_path / "i.sqlite").patients[0].volumes
    problems = ProblemList("x")
    (sag,) = parse_match(
        {"S": {"rules": [{"attribute": "orientation", "test": "equals", "value": "sagittal"}]}}, ("S",), problems
    )
    assert match_role(sag, vols).chosen.series_description == "t2_tse_sag"
    (loc,) = parse_match(
        {
            "S": {
                "rules": [
                    {"attribute": "kind", "test": "equals", "value": "localizer", "weight": 5},
                    {"attribute": "orientation", "test": "equals", "value": "sagittal"},
                ]
            }
        },
        ("S",),
        problems,
    )
    assert match_role(loc, vols).chosen.kind == "localizer" and not problems.items


def test_a_study_folder_that_is_not_an_intake_study_is_refused(tmp_path, export):
    exp, rules, truth = export
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "study.toml").write_text("[study]\n")
    with pytest.raises(StudyError, match="already exists and is not an intake study"):
        build_from_dicom(tmp_path / "s", exp, truth, rules_toml=rules)


def test_one_case_per_study_groups_a_patients_studies_under_one_opaque_code(tmp_path, export):
    from tests.intake.conftest import write_series

    exp, rules, _ = export
    second = "1.2.826.0.1.3680043.8.498.3"  # PAT1 comes back: a follow-up study
    write_series(exp / "followup", 5, study_uid=second, description="t2_tse_tra", accession="ACC9")
    write_series(
        exp / "followup",
        5,
        study_uid=second,
        description="t2_tse_sag",
        orientation=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0),
        name="S{i:04d}",
        accession="ACC9",
    )
    write_series(
        exp / "followup", 5, study_uid=second, description="dwi", b_value=900, name="D{i:04d}", accession="ACC9"
    )
    (tmp_path / "acc.csv").write_text("AccessionNumber,truth\nACC1,1\nACC9,1\n")
    result = build_from_dicom(
        tmp_path / "s", exp, tmp_path / "acc.csv", rules_toml=rules, seed=4, truth_key="AccessionNumber", per="study"
    )
    assert result.wrote_cases, result.flagged
    cases = load_cases(tmp_path / "s", load_protocol(tmp_path / "s"))
    assert len(cases) == 2 and len({c.patient_id for c in cases}) == 1
    assert cases[0].patient_id in {c.case_id for c in cases}


def test_an_unmatched_optional_role_is_resolved_as_none_and_a_required_one_still_blocks(tmp_path, export):
    exp, rules, truth = export
    rules.write_text(RULES.replace("[hanging.match.T2sag]\n", "[hanging.match.T2sag]\noptional = true\n"))
    study = tmp_path / "study"
    first = build_from_dicom(study, exp, truth, rules_toml=rules, seed=11)
    assert not first.wrote_cases
    (line,) = first.flagged
    assert "/ T2sag: no volume matches the rules (optional role)" in line and "none" in line
    code2 = next(c.code for c in first.cases if c.unit.patient_id == "PAT2")
    # "none" on a required role is refused, naming the cell; the study is not built.
    write_choices(study, {(code2, "T2sag"): "none", (code2, "T2axi"): "none"})
    refused = build_from_dicom(study, exp, truth)
    assert not refused.wrote_cases and not (study / "cases.csv").exists()
    assert refused.flagged == (
        f"{code2} / T2axi: choice 'none' is only for an optional role (optional = true); "
        "this role is required: write a volume_id, or skip to leave the case out",
    )
    write_choices(study, {(code2, "T2axi"): ""})
    built = build_from_dicom(study, exp, truth)
    assert built.wrote_cases and not built.flagged
    kept = {(r["case"], r["role"]): r for r in rows(study / "matches.csv")}
    assert kept[(code2, "T2sag")]["status"] == "none" and kept[(code2, "T2sag")]["choice"] == "none"
    cases = {c.case_id: c for c in load_cases(study, load_protocol(study))}
    assert set(cases[code2].media) == {"T2axi", "DWI"}  # the case is kept, without a T2sag
    assert len(cases) == 2 and set(next(c for k, c in cases.items() if k != code2).media) == {"T2axi", "T2sag", "DWI"}
    assert not (study / "media" / code2 / "T2sag").exists()
    assert cli("validate", study, "--quiet").returncode == 0
