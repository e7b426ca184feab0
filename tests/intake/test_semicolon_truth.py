"""A truth table saved by Excel in a decimal-comma locale: values separated by ';', numbers with a comma."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image

from study import wizard
from study.errors import StudyError
from tests.intake.conftest import cli


def photos(folder, names):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (32, 40), dtype=np.uint8)).save(folder / f"{name}.png")
    return folder


def test_readerstudy_new_reads_a_semicolon_truth_table(tmp_path):
    media = photos(tmp_path / "photos", ["K1", "K2", "K3"])
    truth = tmp_path / "truth.csv"
    truth.write_bytes("\ufeffcase_id;truth;patient_id\r\nK1;1;P1\r\nK2;0;P1\r\nK3;1;P2\r\n".encode())
    r = cli("new", tmp_path / "study", "--from-folder", media, "--truth", truth, "--seed", "1")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "study" / "cases.csv", newline="") as fh:
        rows = [(row["case_id"], row["truth"], row["patient_id"]) for row in csv.DictReader(fh)]
    assert rows == [("K1", "1", "P1"), ("K2", "0", "P1"), ("K3", "1", "P2")]  # written back with ','


def test_readerstudy_new_names_an_ambiguous_number(tmp_path):
    media = photos(tmp_path / "photos", ["K1", "K2"])
    truth = tmp_path / "truth.csv"
    truth.write_text("case_id;truth\nK1;1\nK2;1.234,5\n")
    r = cli("new", tmp_path / "study", "--from-folder", media, "--truth", truth, "--seed", "1")
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"error: {truth}: row 3 (K2): truth '1.234,5' is an ambiguous number "
        "(write one decimal comma and no thousands separator, e.g. 1234,5)"
    )
    assert not (tmp_path / "study" / "study.toml").exists()


def test_wizard_scan_reads_decimal_commas_as_numbers(tmp_path):
    media = photos(tmp_path / "photos", ["H1", "H2", "H3"])
    truth = tmp_path / "hb.csv"
    truth.write_text("case_id;truth\nH1;9,5\nH2;12\nH3;-0,25\n")
    s = wizard.scan(media, truth)
    assert [(c.case_id, c.truth) for c in s.cases] == [("H1", "9.5"), ("H2", "12"), ("H3", "-0.25")]
    assert wizard.guess_task([c.truth for c in s.cases])["kind"] == "numeric"


def test_wizard_scan_refuses_points_beside_decimal_commas(tmp_path):
    media = photos(tmp_path / "photos", ["H1", "H2", "H3"])
    truth = tmp_path / "hb.csv"
    truth.write_text("case_id;truth\nH1;9,5\nH2;1.500\nH3;1,2,3\n")
    try:
        wizard.scan(media, truth)
    except StudyError as err:
        problems = err.problems
    else:
        raise AssertionError("an ambiguous truth table was read")
    assert problems == [
        f"{truth}: row 3 (H2): truth '1.500' has a decimal point where row 2 has a decimal comma; write every "
        "number with a comma (or save the table with ',' between values and decimal points)",
        f"{truth}: row 4 (H3): truth '1,2,3' is an ambiguous number "
        "(write one decimal comma and no thousands separator, e.g. 1234,5)",
    ]


def test_a_comma_table_is_read_as_before(tmp_path):
    media = photos(tmp_path / "photos", ["H1", "H2"])
    truth = tmp_path / "hb.csv"
    truth.write_text('case_id,truth,patient_id\nH1,9.5,"Doe; J"\nH2,12,P2\n')  # a ';' inside a value is a value
    s = wizard.scan(media, truth)
    assert [(c.case_id, c.truth, c.patient_id) for c in s.cases] == [("H1", "9.5", "Doe; J"), ("H2", "12", "P2")]


def test_a_dicom_export_s_truth_table_may_be_semicolon_separated_too(tmp_path):
    from study.intake.build import read_truth_by_key

    truth = tmp_path / "truth.csv"
    truth.write_text("PatientID;truth\nANON1;9,5\nANON2;11\n")
    assert read_truth_by_key(truth, "PatientID", None) == {"ANON1": "9.5", "ANON2": "11"}
    truth.write_text("PatientID;truth\nANON1;9,5\nANON2;1.100\n")
    try:
        read_truth_by_key(truth, "PatientID", None)
    except StudyError as err:
        assert err.problems == [
            f"{truth}: row 3 (ANON2): truth '1.100' has a decimal point where row 2 has a decimal comma; write "
            "every number with a comma (or save the table with ',' between values and decimal points)"
        ]
    else:
        raise AssertionError("an ambiguous truth table was read")
