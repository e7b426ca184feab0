"""study.wizard without Qt, region tasks: truth masks from the truth table, the pixel spacing the
media declare, the combined question, and a study the engine and `validate` accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.admin.wizard_state import WizardState
from study import wizard
from study.cases import load_cases
from study.errors import StudyError
from study.intake.validate import validate_study
from study.media import load
from study.protocol import load_protocol
from study.region import read_mask_file
from tests.regionstudy import MR_SPACING, write_mr_series


def test_truth_masks_come_from_the_truth_table_and_guess_a_region_task(region_photos):
    media, truth = region_photos
    s = wizard.scan(media, truth)
    assert s.roles == ("image",) and not s.problems
    assert [Path(c.truth_mask) for c in s.cases] == [truth.parent / "truth" / f"O{i}.png" for i in (1, 2, 3)]
    guess = wizard.guess_task([c.truth for c in s.cases], masks=True)
    assert guess["kind"] == "region" and guess["also"] == "binary"
    assert wizard.guess_task(["", ""], masks=True) == {"kind": "region", "question": "Outline the region"}
    assert wizard.guess_task(["0", "1"])["kind"] == "binary"  # no masks: as before
    two = wizard.guess_task(["healthy", "glaucoma", "healthy"], masks=True)
    assert (two["also"], two["labels"]) == ("binary", ("glaucoma", "healthy"))
    assert two["positive_to_choose"] == ("glaucoma", "healthy")  # which is positive: the researcher's choice
    assert "also" not in wizard.guess_task(["a", "b", "c"], masks=True)  # no yes/no question in three labels


def test_state_asks_to_confirm_the_positive_label_or_says_truths_go_unused(tmp_path, region_photos):
    media, truth = region_photos
    for labels, words in (
        ("healthy,glaucoma,healthy", "Truth labels glaucoma: 1 case, healthy: 2 cases: choose which is positive"),
        ("a,b,c", "a region task without one does not use them"),
    ):
        lines = truth.read_text().splitlines()
        for i, label in enumerate(labels.split(","), start=1):
            cid, _, rest = lines[i].split(",", 2)
            lines[i] = f"{cid},{label},{rest}"
        truth.write_text("\n".join(lines) + "\n")
        state = WizardState(tmp_path / "st")
        state.set_files(str(tmp_path / "st"), str(media), str(truth))
        assert state.scan() and words in state.message


def test_region_study_with_combined_question_is_written_and_validates(tmp_path, region_photos):
    media, truth = region_photos
    s = wizard.scan(media, truth)
    settings = wizard.StudySettings(
        study_id="faz",
        seed=3,
        kind="region",
        question="Outline the optic disc",
        region="optic disc",
        region_role="image",
        spacing_mm=0.02,
        also="binary",
        also_question="Glaucoma?",
        labels=("healthy", "glaucoma"),
        confidence="1-5",
    )
    study = tmp_path / "study"
    protocol = wizard.write_study(study, settings, s.roles, s.cases)
    t = protocol.task
    assert (t.kind, t.region, t.role, t.spacing_mm) == ("region", "optic disc", "image", 0.02)
    assert (t.also, t.also_question, t.labels, t.confidence) == ("binary", "Glaucoma?", ("healthy", "glaucoma"), "1-5")
    assert load_protocol(study).task == t
    # masks copied beside the media, cases.csv points there relative to the study folder
    lines = (study / "cases.csv").read_text().splitlines()
    assert lines[0] == "case_id,truth,patient_id,image,truth_mask"
    assert lines[1] == "O1,0,P0,media/O1.png,masks/O1.png"
    cases = load_cases(study, protocol)
    for c in cases:
        original = read_mask_file(truth.parent / "truth" / f"{c.case_id}.png")
        assert np.array_equal(read_mask_file(c.truth_mask), original)
    assert validate_study(study, protocol, cases) == []


def test_region_without_a_question_and_masks_left_in_place(tmp_path, region_series):
    media, truth = region_series
    s = wizard.scan(media, truth)
    assert s.roles == ("series",)
    settings = wizard.StudySettings(
        study_id="mr", seed=1, kind="region", region="lesion", question="Outline the lesion"
    )
    study = tmp_path / "mr-study"
    protocol = wizard.write_study(study, settings, s.roles, s.cases, media="in-place")
    t = protocol.task
    assert (t.region, t.role, t.spacing_mm, t.also, t.labels) == ("lesion", "", None, "", ())
    cases = load_cases(study, protocol)
    assert [Path(c.truth_mask) for c in cases] == [tmp_path / "masks" / "S1.npy", tmp_path / "masks" / "S2.npy"]
    assert not (study / "masks").exists()
    assert validate_study(study, protocol, cases) == []


def test_missing_and_mismatched_masks_are_problems_of_their_rows(tmp_path, photo_folder, region_photos):
    media, truth = photo_folder  # a truth table without masks
    s = wizard.scan(media, truth)
    settings = wizard.StudySettings(study_id="r", seed=1, kind="region", region="lesion")
    study = tmp_path / "study"
    problems = wizard.check(study, settings, s.roles, s.cases)
    assert {p.row for p in problems} == set(range(8))
    assert all("truth_mask: no mask path" in p.message for p in problems)
    with pytest.raises(StudyError):
        wizard.write_study(study, settings, s.roles, s.cases)
    masks_dir = region_photos[1].parent / "truth"
    cases = s.cases
    for row in range(8):
        cases = wizard.set_cell(cases, row, "truth_mask", str(masks_dir / "O1.png"))
    cases = wizard.set_cell(cases, 0, "truth_mask", str(masks_dir / "nothing.png"))
    problems = wizard.check(study, settings, s.roles, cases)
    assert [(p.row, "file not found" in p.message) for p in problems] == [(0, True)]
    # a binary question's truth must still be a truth of it
    bad = wizard.StudySettings(
        study_id="r", seed=1, kind="region", region="lesion", also="binary", labels=("no", "yes")
    )
    cases = wizard.set_cell(cases, 0, "truth_mask", str(masks_dir / "O2.png"))
    cases = wizard.set_cell(cases, 3, "truth", "maybe")
    assert [p.row for p in wizard.check(study, bad, s.roles, cases)] == [3]
    # a role that is not one of the study's, as the engine says it
    wrong_role = wizard.StudySettings(study_id="r", seed=1, kind="region", region="lesion", region_role="fundus")
    assert any("task.role" in p.message for p in wizard.check(study, wrong_role, s.roles, cases))


def test_media_spacing_reads_the_dicom_header_only(tmp_path, photo_folder):
    series = tmp_path / "s"
    write_mr_series(series, n=3)
    assert wizard.media_spacing(series) == MR_SPACING
    assert wizard.media_spacing(next(series.iterdir())) == MR_SPACING  # one file of it
    bare = tmp_path / "bare"
    write_mr_series(bare, n=2, spacing=False)
    assert wizard.media_spacing(bare) is None
    media = load(bare)
    assert media.spacing == (1.0, 1.0) and not media.spacing_known  # a display default, no measurement
    assert load(series).spacing_known
    assert wizard.media_spacing(photo_folder[0] / "C001.png") is None
    with pytest.raises(StudyError, match="gone.dcm"):
        wizard.media_spacing(tmp_path / "gone.dcm")


def test_state_guesses_region_keeps_the_role_through_a_rename_and_says_the_spacing(tmp_path, region_series):
    media, truth = region_series
    state = WizardState(tmp_path / "st")
    state.set_files(str(tmp_path / "st"), str(media), str(truth))
    assert state.scan() and state.message == "2 cases, roles: series, 2 truth masks."
    assert state.settings.kind == "region" and state.settings.region_role == "series" and state.shows_masks
    spacing, note = state.media_spacing("series")
    assert spacing == MR_SPACING and "0.3125 \u00d7 0.3125 mm" in note
    assert state.rename_role("series", "mr")
    assert state.settings.region_role == "mr" and state.media_spacing("mr")[0] == MR_SPACING
    assert not state.create("secret-1", "secret-1")  # what is outlined: not named yet
    assert [p.message for p in state.problems] == [
        "region: name what the reader outlines (e.g. FAZ, optic disc, lesion)"
    ]
    state.update(region="lesion")
    assert state.create("secret-1", "secret-1"), state.problems
    assert state.created.task.role == "mr" and state.created.hanging.roles == ("mr",)


def test_check_lists_a_truth_mask_that_does_not_fit_its_image(tmp_path, region_series, region_photos):
    """The newcomer's 2-D PNG on a series passed Check ("No problems") and broke the report."""
    media, truth = region_series
    s = wizard.scan(media, truth)
    settings = wizard.StudySettings(
        study_id="mr", seed=1, kind="region", region="lesion", question="Outline the lesion"
    )
    study = tmp_path / "mr-study"
    assert wizard.check(study, settings, s.roles, s.cases) == []
    flat = tmp_path / "masks" / "S2.png"
    Image.fromarray(np.load(tmp_path / "masks" / "S2.npy")[1].astype(np.uint8) * 255).save(flat)
    problems = wizard.check(study, settings, s.roles, wizard.set_cell(s.cases, 1, "truth_mask", str(flat)))
    assert [p.row for p in problems] == [1]
    assert problems[0].message.startswith(f"case S2: {flat}: mask shape (64, 64)")
    assert "(4, 64, 64)" in problems[0].message
    with pytest.raises(StudyError, match="S2"):
        wizard.write_study(study, settings, s.roles, wizard.set_cell(s.cases, 1, "truth_mask", str(flat)))
    # a photo's mask of another size (96 x 96 photos)
    pmedia, ptruth = region_photos
    ps = wizard.scan(pmedia, ptruth)
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((512, 512), np.uint8)).save(big)
    photo_settings = wizard.StudySettings(study_id="p", seed=1, kind="region", region="disc")
    problems = wizard.check(
        tmp_path / "p", photo_settings, ps.roles, wizard.set_cell(ps.cases, 2, "truth_mask", str(big))
    )
    assert [(p.row, "(512, 512)" in p.message and "(96, 96)" in p.message) for p in problems] == [(2, True)]
