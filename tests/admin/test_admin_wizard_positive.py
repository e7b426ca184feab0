"""The wizard never guesses which truth label is positive: word labels (glaucoma / normal) are
asked on the Protocol page with their counts and no answer preselected, and Create stays disabled
until the researcher chooses; words that say it themselves (no/yes, absent/present) need no choice.
A region task also needs the name of what is outlined.

Screenshots of the Protocol page go to ``$WIZARD_SHOTS`` when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from study import wizard
from study.errors import StudyError
from study.protocol import load_protocol
from tests.admin.wizard_steps import wizard_on_cases


def _shot(widget, name: str) -> None:
    folder = os.environ.get("WIZARD_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.resize(1440, 900)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _problems(w) -> list[str]:
    return [w.problem_list.item(i).text() for i in range(w.problem_list.count())]


def _relabel(truth: Path, labels: tuple[str, ...]) -> None:
    """Give the truth table's rows these truths, in turn."""
    lines = truth.read_text().splitlines()
    for i in range(1, len(lines)):
        cid, _, rest = lines[i].split(",", 2)
        lines[i] = f"{cid},{labels[(i - 1) % len(labels)]},{rest}"
    truth.write_text("\n".join(lines) + "\n")


def test_guess_asks_for_the_positive_of_words_but_not_of_plain_pairs():
    for masks in (False, True):
        words = wizard.guess_task(["normal", "glaucoma", "normal"], masks=masks)
        assert words["labels"] == ("glaucoma", "normal") and words["positive_to_choose"] == ("glaucoma", "normal")
        assert words["kind"] == ("region" if masks else "binary")
        for truths, order in (
            (["yes", "no"], ("no", "yes")),
            (["Present", "absent"], ("absent", "Present")),
            (["true", "false"], ("false", "true")),
            (["positive", "negative"], ("negative", "positive")),
        ):
            plain = wizard.guess_task(truths, masks=masks)
            assert plain["labels"] == order and "positive_to_choose" not in plain
    # three classes: which count positive is optional and never guessed ("normal" sorts last)
    assert wizard.guess_task(["CIN1", "CIN2+", "normal"])["positive"] == ()


def test_create_refuses_an_unchosen_positive_and_an_unnamed_region(tmp_path, region_photos):
    media, truth = region_photos
    _relabel(truth, ("glaucoma", "normal"))
    s = wizard.scan(media, truth)
    guess = wizard.guess_task([c.truth for c in s.cases], masks=True)
    settings = wizard.StudySettings(study_id="discs", seed=1, region_role="image", **guess)
    with pytest.raises(StudyError) as err:
        wizard.write_study(tmp_path / "st", settings, s.roles, s.cases, "secret-1")
    assert err.value.problems == [
        "choose which label is positive (the disease): glaucoma or normal",
        "region: name what the reader outlines (e.g. FAZ, optic disc, lesion)",
    ]
    assert not (tmp_path / "st" / "study.toml").exists()


@pytest.mark.parametrize("masks", [False, True], ids=["binary", "region"])
def test_wizard_asks_which_label_is_positive_and_creates_only_then(qtbot, tmp_path, region_photos, masks):
    media, truth = region_photos
    _relabel(truth, ("glaucoma", "normal"))
    if not masks:  # the same table without its truth_mask column: a plain yes/no study
        truth.write_text("\n".join(line.rsplit(",", 1)[0] for line in truth.read_text().splitlines()) + "\n")
    study = tmp_path / "discs"
    shell, w = wizard_on_cases(qtbot, study, media, truth)
    assert "Truth labels glaucoma: 2 cases, normal: 1 case: choose which is positive" in w.state.message
    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    page = w.protocol_page
    assert page.kind.currentData() == ("region" if masks else "binary")
    assert page.positive_choice.isVisibleTo(page) and page.positive_choice.currentIndex() == -1  # no default
    items = [page.positive_choice.itemText(i) for i in range(page.positive_choice.count())]
    assert items == ["glaucoma (2 cases)", "normal (1 case)"]
    assert "glaucoma: 2 cases, normal: 1 case" in page.label_counts.text()
    negative, positive = (page.also_negative, page.also_positive) if masks else (page.negative, page.positive_label)
    assert (negative.text(), positive.text()) == ("", "")  # not glaucoma / normal by the alphabet
    assert "choose which label is positive (the disease): glaucoma or normal" in _problems(w)
    if masks:
        assert "region: name what the reader outlines (e.g. FAZ, optic disc, lesion)" in _problems(w)
        qtbot.keyClicks(page.region, "optic disc")
    qtbot.keyClicks(page.password, "secret-1")
    qtbot.keyClicks(page.confirm, "secret-1")
    assert not any(p.startswith("admin password") for p in _problems(w))  # gone as typed, not at the next Check
    assert not w.next_button.isEnabled()  # Create: the password is typed, the positive is not chosen
    _shot(shell, f"wizard_positive_unchosen_{'region' if masks else 'binary'}")
    page.positive_choice.setCurrentIndex(page.positive_choice.findData("glaucoma"))
    assert (negative.text(), positive.text()) == ("normal", "glaucoma")
    assert w.next_button.isEnabled() and not any("choose which label" in p for p in _problems(w))
    _shot(shell, f"wizard_positive_chosen_{'region' if masks else 'binary'}")
    with qtbot.waitSignal(w.study_created, timeout=30_000):
        qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    task = load_protocol(study).task
    assert task.labels == ("normal", "glaucoma")
    if masks:
        assert (task.also, task.region) == ("binary", "optic disc")


def test_plain_labels_need_no_choice_and_keep_their_meaning(qtbot, tmp_path, region_photos):
    """absent / Present say which is positive; the alphabet ("P" < "a") would have swapped them."""
    media, truth = region_photos
    _relabel(truth, ("absent", "Present"))
    shell, w = wizard_on_cases(qtbot, tmp_path / "plain", media, truth)
    qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    page = w.protocol_page
    assert (page.also_negative.text(), page.also_positive.text()) == ("absent", "Present")
    assert not page.positive_choice.isVisibleTo(page) and w.next_button.isEnabled()
    assert not any("choose which label" in p for p in _problems(w))
