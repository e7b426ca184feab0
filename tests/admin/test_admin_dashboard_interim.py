"""The Results tab on a study still being read: never blank, n everywhere, who is left out and why."""

from __future__ import annotations

from pathlib import Path

from app.admin.dashboard_state import DashboardState, mrmc_sentence
from app.admin.dashboard_widget import DashboardWidget
from app.admin.tables import cell_texts

ROOT = Path(__file__).resolve().parents[1]


def _store_helpers():
    """make_study / read_some of tests/export/test_export_store.py (tests are not a package here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("export_store", ROOT / "export" / "test_export_store.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_study, module.read_some


def test_results_tab_on_an_interim_study(qtbot, tmp_path):
    make_study, read_some = _store_helpers()
    study = make_study(tmp_path / "study")
    read_some(study)  # r1: 4 aided reads; r2: half of the unaided reads, no aided
    w = DashboardWidget(DashboardState(study, title="Interim"))
    qtbot.addWidget(w)
    w.resize(1440, 900)
    with qtbot.waitSignal(w.analysis_shown, timeout=60_000):
        w.on_refresh_clicked()
    result = w.state.analysis.result
    assert result["progress"]["interim"]
    assert w.summary_label.text().startswith("INTERIM: ")
    cells = cell_texts(w.paper_table)
    assert cells and all(c for row in cells for c in row)
    assert any("n=" in c for row in cells for c in row)
    for fom, label in w.mrmc_labels.items():
        text = label.text()
        assert text == mrmc_sentence(result, fom)
        assert "readers," in text and "cases (12 positive, 12 negative)" in text and "left out: " in text
        assert "r2" in text.split("left out: ")[1]
        assert "nan" not in text
    assert len(w.forest_plot.rows) == 8  # every reader x modality with reads, and the AI
    time = cell_texts(w.time_table)
    # s1: the first read of each session took 1 s, but session 1's first case had an earlier
    # 5 s sitting (looked at, left, finished later): its read took 6 s in all, not fast
    assert time[0][-1] == "1 of 48 ⚠"
    assert any(row[2] == "no reads yet" for row in time)


def test_no_mrmc_sentence_ends_once():
    """The analysis' note ends with a full stop; the sentence around it must not add a second one."""
    result = {"mrmc": {}, "notes": ["MRMC analysis needs at least two readers; left out."]}
    assert mrmc_sentence(result, "auc") == "AUC: no MRMC result (MRMC analysis needs at least two readers; left out)."
    assert mrmc_sentence({"mrmc": {}, "notes": []}, "auc").endswith("(needs two readers and two modalities).")
