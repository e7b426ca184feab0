"""The spine's commands, run as a user runs them: in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from study.engine import ReadSubmission, StudyEngine

ADMIN = "pi-secret-1"


def cli(*args: str, password: str | None = ADMIN) -> subprocess.CompletedProcess:
    """The command as a user runs it; the admin password in the environment (None: not given)."""
    env = {k: v for k, v in os.environ.items() if k != "READERSTUDY_ADMIN_PASSWORD"}
    if password is not None:
        env["READERSTUDY_ADMIN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def test_readers_status_and_override(study_dir):
    first = cli("admin-password", study_dir, "--password", ADMIN, password=None)
    assert first.returncode == 0 and first.stdout.strip() == f"admin password set for {study_dir}", first.stderr
    r = cli("readers", "add", study_dir, "spec1", "--group", "specialist", "--pin", "1234")
    assert r.returncode == 0, r.stderr
    bad = cli("readers", "add", study_dir, "x1", "--group", "radiographer", "--pin", "1234")
    assert bad.returncode == 2
    assert (
        bad.stderr.strip() == "error: --group: 'radiographer' is not one of the study's groups (specialist, resident)"
    )
    dup = cli("readers", "add", study_dir, "spec1", "--group", "specialist", "--pin", "1234")
    assert dup.stderr.strip() == "error: reader spec1: already exists"
    # Sign-in is exact: a code equal ignoring case, or with a space, would be a second reader.
    upper = cli("readers", "add", study_dir, "SPEC1", "--group", "specialist")  # refused before asking a PIN
    assert upper.returncode == 2 and upper.stderr.strip() == (
        "error: reader SPEC1: the code 'spec1' exists already; codes that differ only in upper/lower case "
        "or spaces would count as two readers"
    )
    spaced = cli("readers", "add", study_dir, "spec 5", "--group", "specialist", "--pin", "1234")
    assert spaced.stderr.strip() == "error: reader code 'spec 5': must not contain spaces (e.g. 'spec5')"
    assert cli("readers", "list", study_dir).stdout.split() == ["spec1", "specialist"]
    # no --pin and no terminal (a script, cron, CI): one line naming the option, never a traceback
    no_pin = cli("readers", "add", study_dir, "spec2", "--group", "specialist")
    assert no_pin.returncode == 2 and "Traceback" not in no_pin.stderr
    assert (
        no_pin.stderr.strip()
        .splitlines()[-1]
        .endswith("error: PIN for spec2: nothing to read (no terminal); pass --pin")
    )
    no_password = cli("admin-password", study_dir)
    assert no_password.returncode == 2 and "Traceback" not in no_password.stderr
    assert "nothing to read (no terminal); pass --password or --new-password-file FILE" in no_password.stderr
    engine = StudyEngine.open(study_dir)
    rs = engine.start("spec1", 1)
    while (item := rs.next_item()) is not None:
        now = engine.clock()
        rs.submit(ReadSubmission(item.case_id, "0", now, now, 500, confidence=10))
    rs.close()
    engine.close()
    status = cli("status", study_dir, "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    sessions = data["readers"][0]["sessions"]
    assert [(s["state"], s["done"], s["total"]) for s in sessions] == [("done", 8, 8), ("locked", 0, 8)]
    assert 27.9 < sessions[1]["washout_days_remaining"] <= 28 and data["audit"]["ok"] is True
    no_reason = cli("override-washout", study_dir, "spec1", "--reason", "")
    assert no_reason.returncode == 2 and "a reason is required" in no_reason.stderr
    ok = cli("override-washout", study_dir, "spec1", "--reason", "moving abroad")
    assert ok.returncode == 0, ok.stderr
    text = cli("status", study_dir).stdout
    assert "not started" in text and "audit chain: OK" in text
    # No model is attached: the aided session is open by the washout, closed by the AI, and says so.
    no_model = "needs the AI's outputs: no model attached (Study administration \u2192 Model)"
    assert f"aided reads: closed, {no_model}" in text
    assert f"not started  0/8, {no_model}" in text
    data = json.loads(cli("status", study_dir, "--json").stdout)
    assert data["ai"]["model"] is None and data["ai"]["aided_closed"] == no_model
    assert [s["ai_closed"] for s in data["readers"][0]["sessions"]] == [None, no_model]


def test_new_study_from_a_folder_and_truth_table(tmp_path, study_dir):
    media = tmp_path / "incoming"
    media.mkdir()
    truth = ["case_id,truth"]
    for i, png in enumerate(sorted((study_dir / "media").glob("*.png"))[:4]):
        shutil.copy(png, media / f"P{i}.png")
        truth.append(f"P{i},{i % 2}")
    (tmp_path / "truth.csv").write_text("\n".join(truth) + "\n")
    shutil.copy(media / "P0.png", media / "P7.png")  # a scan the truth table does not list
    out = tmp_path / "newstudy"
    r = cli(
        "new",
        out,
        "--from-folder",
        media,
        "--truth",
        tmp_path / "truth.csv",
        "--seed",
        "5",
        "--admin-password",
        "pi-secret",
    )
    nopw = cli("new", tmp_path / "nopw", "--from-folder", media, "--truth", tmp_path / "truth.csv", password=None)
    assert nopw.returncode == 2 and nopw.stderr.startswith("error: new: a study needs an admin password")
    assert not (tmp_path / "nopw").exists()
    assert r.returncode == 0, r.stderr
    # left out of the study, and said so (never silently)
    assert f"note: {media}: 1 not in the truth table, left out of the study: P7.png" in r.stderr.splitlines()
    assert "P7" not in (out / "cases.csv").read_text()
    from study.store import Store

    store = Store.open(out)
    assert store.check_admin_password("pi-secret")
    store.close()
    assert cli("validate", out).returncode == 0
    # The media are copied into the study (self-contained, movable); paths are relative to it.
    assert (out / "cases.csv").read_text().splitlines()[1] == "P0,0,P0,media/P0.png"
    assert (out / "media" / "P0.png").read_bytes() == (media / "P0.png").read_bytes()
    # A case without media: one clear line, nothing written.
    (tmp_path / "truth.csv").write_text("case_id,truth\nP0,0\nP9,1\n")
    bad = cli(
        "new",
        tmp_path / "other",
        "--from-folder",
        media,
        "--truth",
        tmp_path / "truth.csv",
        "--admin-password",
        "pi-secret",
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"error: {media.resolve()}: no file or folder for case 'P9' (expected P9.* or P9/)"
    assert not (tmp_path / "other" / "study.toml").exists()
    # Never overwrite an existing study.
    again = cli("new", out, "--from-folder", media, "--truth", tmp_path / "truth.csv", "--admin-password", "pi-secret")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_new_refuses_word_labels_until_told_which_is_positive(tmp_path, study_dir):
    """glaucoma / normal do not say which is the disease: `new` names them and their counts and asks;
    an alphabetical guess would make "normal" positive and swap sensitivity and specificity."""
    media = tmp_path / "incoming"
    media.mkdir()
    truth = ["case_id,truth"]
    for i, png in enumerate(sorted((study_dir / "media").glob("*.png"))[:5]):
        shutil.copy(png, media / f"P{i}.png")
        truth.append(f"P{i},{('glaucoma', 'normal')[i % 2]}")
    table = tmp_path / "truth.csv"
    table.write_text("\n".join(truth) + "\n")
    args = ("--from-folder", media, "--truth", table, "--admin-password", "pi-secret")
    refused = cli("new", tmp_path / "guess", *args)
    assert refused.returncode == 2 and not (tmp_path / "guess" / "study.toml").exists()
    assert refused.stderr.strip() == (
        f"error: {table}: truth labels 'glaucoma' (3 cases), 'normal' (2 cases): which is positive (the disease)? "
        "Pass --positive glaucoma or --positive normal (or --labels NEGATIVE POSITIVE)"
    )
    typo = cli("new", tmp_path / "typo", *args, "--positive", "Glaucoma")
    assert typo.returncode == 2 and "--positive 'Glaucoma' is not one of the truth labels" in typo.stderr
    chosen = cli("new", tmp_path / "chosen", *args, "--positive", "glaucoma")
    assert chosen.returncode == 0, chosen.stderr
    from study.protocol import load_protocol

    assert load_protocol(tmp_path / "chosen").task.labels == ("normal", "glaucoma")
    # words that say it themselves need no flag, whichever comes first in the alphabet
    table.write_text("case_id,truth\n" + "".join(f"P{i},{('Yes', 'No')[i % 2]}\n" for i in range(5)))
    plain = cli("new", tmp_path / "plain", *args)
    assert plain.returncode == 0, plain.stderr
    assert load_protocol(tmp_path / "plain").task.labels == ("No", "Yes")
