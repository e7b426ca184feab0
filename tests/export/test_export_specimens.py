"""`readerstudy report` on a specimen triage study: specimens.csv and results.json carry the
reading time, fields opened and decisive-field-in-top-k per reader x mode (issue 17)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from app.cli import main
from study.store import field_views_table
from tests.admin_cli import ENV, PASSWORD, give_admin_password
from tests.reading.specimen_helpers import make_specimen_study, put_specimen_ai, read_two_specimens


def test_report_has_specimen_statistics(tmp_path, capsys, monkeypatch):
    folder = make_specimen_study(tmp_path / "s", top_k=2)
    put_specimen_ai(folder)
    read_two_specimens(folder)

    frame = field_views_table(folder.path)
    assert len(frame) == 4 and frame["read_id"].notna().all()  # the left sitting counts towards its read
    give_admin_password(folder.path)
    monkeypatch.setenv(ENV, PASSWORD)
    out = tmp_path / "report"
    assert main(["report", str(folder.path), "--out", str(out)]) == 0, capsys.readouterr().err
    table = pd.read_csv(out / "specimens.csv")
    (row,) = table.to_dict("records")
    assert (row["reader"], row["modality"], row["specimens"]) == ("r1", "aided", 2)
    assert row["seconds_mean"] == pytest.approx((12.0 + 5.0) / 2)  # 4 s left + 8 s, and 5 s
    assert row["fields_opened_mean"] == pytest.approx((2 + 1) / 2)  # QS101: fields 1 and 0
    assert row["openings_mean"] == pytest.approx((3 + 1) / 2)
    assert (row["decisive_known"], row["decisive_in_top_k"]) == (2, 1)
    assert row["ai_pick_miss_rate"] == pytest.approx(0.5)
    results = json.loads((out / "results.json").read_text())
    assert results["specimens"][0]["decisive_in_top_k"] == 1
    assert (out / "report.pdf").stat().st_size > 0
