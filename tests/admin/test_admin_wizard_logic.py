"""study.wizard without Qt: scan, edit, check and write give what the CLI writes and reads."""

from __future__ import annotations

import pytest

from study import wizard
from study.cases import load_cases
from study.errors import StudyError
from study.newstudy import new_study
from study.protocol import load_protocol
from study.store import Store


def test_binary_defaults_write_exactly_what_readerstudy_new_writes(tmp_path, photo_folder):
    media, truth = photo_folder
    cli = tmp_path / "cli"
    new_study(cli, media, truth, seed=7, groups=("specialist", "resident"))
    s = wizard.scan(media, truth)
    settings = wizard.StudySettings(study_id="gui", seed=7, groups=("specialist", "resident"))
    gui = tmp_path / "gui"
    wizard.write_study(gui, settings, s.roles, s.cases)
    assert (gui / "cases.csv").read_text() == (cli / "cases.csv").read_text()
    assert (gui / "study.toml").read_text() == (cli / "study.toml").read_text().replace('"cli"', '"gui"')
    assert len(load_cases(gui, load_protocol(gui))) == 8


def test_scan_finds_roles_per_case_folder_and_guesses_multiclass(two_role_folder):
    media, truth = two_role_folder
    s = wizard.scan(media, truth)
    assert s.roles == ("DWI", "T2") and not s.problems
    assert s.cases[0].path("T2").endswith("M1/T2.png")
    guess = wizard.guess_task([c.truth for c in s.cases])
    assert guess["kind"] == "multiclass" and set(guess["labels"]) == {"normal", "CIN1", "CIN2+"}


def test_problems_name_the_row_and_are_fixed_in_place(tmp_path, photo_folder):
    media, truth = photo_folder
    text = truth.read_text().replace("C003,1,", "C003,maybe,") + "C999,1,P9\n"
    truth.write_text(text)
    s = wizard.scan(media, truth)
    assert any("C999" in p for p in s.problems)
    settings = wizard.StudySettings(study_id="s", seed=1)
    study = tmp_path / "study"
    problems = wizard.check(study, settings, s.roles, s.cases)
    rows = {p.row for p in problems}
    assert rows == {2, 8}  # C003 (truth) and C999 (no media), as table rows
    assert all(str(study / "cases.csv") in p.message for p in problems)
    with pytest.raises(StudyError):
        wizard.write_study(study, settings, s.roles, s.cases)
    assert not (study / "study.toml").exists()
    cases = wizard.set_cell(s.cases, 2, "truth", "1")
    cases = wizard.set_cell(cases, 8, "image", str(media / "C001.png"))
    assert wizard.check(study, settings, s.roles, cases) == []


def test_protocol_problems_come_from_the_engine_validator(tmp_path, photo_folder):
    media, truth = photo_folder
    s = wizard.scan(media, truth)
    bad = wizard.StudySettings(study_id="s", seed=1, kind="numeric", min=5.0, max=1.0)
    problems = wizard.check(tmp_path / "x", bad, s.roles, s.cases)
    assert any("task.max" in p.message and "study.toml" in p.message for p in problems)


def test_multiclass_study_with_renamed_roles_groups_time_limit_and_password(tmp_path, two_role_folder):
    media, truth = two_role_folder
    s = wizard.scan(media, truth)
    cases, roles = wizard.rename_role(s.cases, s.roles, "T2", "T2axi")
    with pytest.raises(StudyError, match="already used"):
        wizard.rename_role(cases, roles, "DWI", "T2axi")
    settings = wizard.StudySettings(
        study_id="cyto",
        seed=3,
        design="crossover",
        washout_days=14,
        kind="multiclass",
        labels=("normal", "CIN1", "CIN2+"),
        positive=("CIN2+",),
        groups=("cyto",),
        time_limit_seconds=90,
    )
    study = tmp_path / "cyto"
    p = wizard.write_study(study, settings, roles, cases, admin_password="secret!")
    assert p.hanging.roles == ("DWI", "T2axi") and p.task.positive == ("CIN2+",) and p.time_limit_seconds == 90
    assert len(load_cases(study, p)) == 4
    store = Store.open(study)
    try:
        assert store.check_admin_password("secret!") and not store.check_admin_password("wrong")
    finally:
        store.close()


def test_attach_model_records_a_relative_spec_path(tmp_path, photo_folder):
    media, truth = photo_folder
    s = wizard.scan(media, truth)
    study = tmp_path / "study"
    wizard.write_study(study, wizard.StudySettings(study_id="s", seed=1), s.roles, s.cases)
    spec = tmp_path / "models" / "model.toml"
    p = wizard.attach_model(study, spec)
    assert p.model_spec == "../models/model.toml"
    assert p.seed == 1 and p.hanging.roles == s.roles


def test_decode_media_names_each_file_that_does_not_decode_and_write_study_refuses_it(tmp_path, photo_folder):
    """A truncated PNG passes the structural check (present, a known kind);
    decoding names case, role, file and cause on their rows, and write_study(decode=True) writes nothing."""
    media, truth = photo_folder
    (media / "C002.png").write_bytes((media / "C002.png").read_bytes()[:200])
    s = wizard.scan(media, truth)
    settings = wizard.StudySettings(study_id="s", seed=1)
    study = tmp_path / "study"
    assert wizard.check(study, settings, s.roles, s.cases) == []
    gen = wizard.decode_media(s.cases, s.roles)
    steps = []
    try:
        while True:
            steps.append(next(gen))
    except StopIteration as stop:
        problems = stop.value
    assert steps == [(i, 8) for i in range(1, 9)]
    assert [(p.row, p.message.split(": ")[0]) for p in problems] == [(1, "case C002 / image")]
    assert str(media / "C002.png") in problems[0].message
    assert wizard.media_problems(s.cases, s.roles) == problems
    with pytest.raises(StudyError, match="case C002 / image"):
        wizard.write_study(study, settings, s.roles, s.cases, "pw-123456", decode=True)
    assert not study.exists() or not any(study.iterdir())
    wizard.write_study(study, settings, s.roles, s.cases, "pw-123456")  # without decode: the CLI's `new`
    assert (study / "study.toml").exists()
