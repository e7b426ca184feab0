"""`report --out DIR` keeps an earlier report's AUDIT_ANCHOR.txt unless told to replace it."""

from __future__ import annotations

from app.cli import main
from study.store import ANCHOR_OUTPUT
from tests.admin_cli import ENV, PASSWORD, give_admin_password
from tests.export.test_export_store import make_study, read_some


def test_report_refuses_to_overwrite_an_earlier_anchor_without_force(tmp_path, capsys, monkeypatch):
    study = make_study(tmp_path / "study", n=8)
    read_some(study)
    give_admin_password(study)
    monkeypatch.setenv(ENV, PASSWORD)
    out = tmp_path / "report"
    assert main(["report", str(study), "--out", str(out)]) == 0, capsys.readouterr().err
    anchor = out / ANCHOR_OUTPUT
    first = anchor.read_text()
    capsys.readouterr()

    assert main(["report", str(study), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{anchor}: an earlier report's audit anchor is in this folder") and "--force" in err
    assert anchor.read_text() == first

    assert main(["report", str(study), "--out", str(out), "--force"]) == 0, capsys.readouterr().err
    second = anchor.read_text()
    assert second != first and second.strip() in (study / "readerstudy.anchors").read_text()
    assert first.strip() in (study / "readerstudy.anchors").read_text()  # the earlier line stays in the study
