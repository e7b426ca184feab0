"""``python -m study.demo.wsi``: the demo slides and their truth table."""

from __future__ import annotations

import csv

from study.demo.wsi import main
from study.media import detect_kind
from study.media.wsi import open_slide


def test_demo_slides_are_written_with_their_truth_boxes(tmp_path, capsys):
    assert main([str(tmp_path), "--seed", "3", "--size", "3072x2048"]) == 0
    assert "WSI02.svs: svs, 3072x2048" in capsys.readouterr().out
    with open(tmp_path / "wsi_regions.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["file"] for r in rows} == {"WSI01.tif", "WSI02.svs"} and len(rows) == 5
    for name in ("WSI01.tif", "WSI02.svs"):
        assert detect_kind(tmp_path / name) == "wsi"
        with open_slide(tmp_path / name) as slide:
            assert slide.info.dimensions == (3072, 2048) and slide.info.level_count == 4
            for r in (r for r in rows if r["file"] == name):
                x, y, w, h = (int(r[k]) for k in ("x", "y", "width", "height"))
                assert 0 <= x and x + w <= 3072 and 0 <= y and y + h <= 2048
                region = slide.read_region((x, y), 0, (w, h))
                assert (region.mean(axis=2) < 90).mean() > 0.1  # dark HSIL-like nuclei fill the box
