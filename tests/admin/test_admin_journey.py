"""The issue's 'done when', in the GUI: create a study from a folder, add readers, attach and precompute a
model, and after reads (submitted through the engine, as the reading screen does) see and export the results."""

from __future__ import annotations

import argparse
import json
import subprocess
from datetime import timedelta

from app.admin.tables import cell_texts
from study.engine import ReadSubmission
from study.export import cli as report_cli
from study.export.report import FILES
from study.export.tables import paper_table
from study.stats.analysis import analyze
from study.store import ai_table, reads_table
from tests.admin.wizard_steps import wizard_on_cases


def _read_everything(engine, reader: str, index: int, skill: int) -> None:
    session = engine.start(reader, index)
    k = 0
    while (item := session.next_item()) is not None:
        truth = int(engine.case(item.case_id).truth)
        wrong = (k + skill) % 4 == 0 and item.mode == "unaided"  # aided reads are better
        answer = 1 - truth if wrong else truth
        t = engine.clock()
        session.submit(
            ReadSubmission(
                item.case_id,
                str(answer),
                t - timedelta(seconds=20 + k),
                t,
                (20 + k) * 1000,
                confidence=float(60 + 5 * k if answer else 40 - 4 * k),
            )
        )
        k += 1
    session.close()


def test_researcher_journey_in_the_gui(qtbot, tmp_path, photo_folder, tiny_model):
    media, truth = photo_folder
    study = tmp_path / "journey"
    shell, w = wizard_on_cases(qtbot, study, media, truth)
    w.next_button.click()
    page = w.protocol_page
    page.groups.setText("specialist, resident")
    page.on_form_edited()
    page.password.setText("journey-pw")
    page.confirm.setText("journey-pw")
    with qtbot.waitSignal(w.study_created, timeout=10_000):
        w.next_button.click()
    admin = shell.admin

    readers = admin.readers
    for code, group in (("spec1", "specialist"), ("res1", "resident")):
        readers.code_edit.setText(code)
        readers.group_box.setCurrentText(group)
        readers.pin_edit.setText("1234")
        readers.add_button.click()
    assert [line.code for line in readers.state.lines] == ["spec1", "res1"]

    model = admin.model
    model.attach(tiny_model)
    with qtbot.waitSignal(model.precompute_finished, timeout=60_000):
        model.run_button.click()
    assert len(admin.engine.store.ai_outputs()) == 8

    engine = admin.engine
    for skill, code in enumerate(("spec1", "res1")):
        _read_everything(engine, code, 1, skill)
        readers.on_refresh_clicked()
        readers.select_session(code, 2)
        readers.reason_edit.setText("pilot: no washout needed")
        readers.override_button.click()
        _read_everything(engine, code, 2, skill)

    dash = admin.dashboard
    with qtbot.waitSignal(dash.analysis_shown, timeout=30_000):
        admin.tabs.setCurrentWidget(dash)  # the first visit analyses the store
    expected = analyze(reads_table(study), ai=ai_table(study))
    assert cell_texts(dash.paper_table) == paper_table(expected)[2]
    assert dash.mrmc_labels["auc"].text().startswith("AUC unaided")
    out = tmp_path / "export"
    with qtbot.waitSignal(dash.exported, timeout=60_000):
        dash.export_to(out)
    assert all((out / name).is_file() for name in FILES)
    # The Results tab's export is `readerstudy report`'s: the same files with the same contents.
    parser = argparse.ArgumentParser()
    report_cli.add_arguments(parser)
    assert report_cli.run(parser.parse_args([str(study), "--out", str(tmp_path / "cli")])) == 0
    for name in ("reads.csv", "metrics.csv", "study.imrmc"):
        assert (out / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name

    def results(folder):  # all but the second each export was written at
        payload = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        assert payload["study"].pop("exported_at")
        return payload

    assert results(out) == results(tmp_path / "cli")

    def pdf_text(folder):
        text = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, text=True).stdout
        return [line for line in text.splitlines() if "by readerstudy" not in line]  # the minute it was written

    assert pdf_text(out) == pdf_text(tmp_path / "cli") and "Randomization seed" in pdf_text(out)
