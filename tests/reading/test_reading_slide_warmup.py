"""A study with whole-slide images warms slide reading (tiffslide, zarr, codecs) in a worker while
the reader signs in, so the first slide opens without that cost; other studies open no slide."""

from __future__ import annotations

import csv
import os
import shutil

from app.main_window import MainWindow
from study.media.wsi import warm_up
from tests.reading.helpers import make_study


def with_slide(folder, slide) -> str:
    """Case 2's photo replaced by a whole-slide image; its path as the engine resolves it."""
    target = folder.path / "media" / "slide.svs"
    shutil.copy(slide, target)
    with open(folder.path / "cases.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[1]["photo"] = "media/slide.svs"
    with open(folder.path / "cases.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    return str(target)


def test_a_study_with_slides_warms_one_in_the_background(qtbot, engine_factory, mono, tmp_path, wsi_slides):
    folder = make_study(tmp_path / "cyto", "multiclass", design="concurrent", mode="triage", n=3)
    slide = with_slide(folder, wsi_slides["svs"].path)
    window = MainWindow(engine_factory(folder), clock=mono)
    qtbot.addWidget(window)
    window.show()
    assert window.screen == "login"  # the login screen is up at once; the warm-up runs behind it
    qtbot.waitUntil(lambda: not window.slide_warmup.is_running, timeout=30_000)
    assert window.warmed_slide is not None and os.path.samefile(window.warmed_slide, slide)


def test_a_study_without_slides_opens_none(qtbot, engine_factory, mono, tmp_path):
    window = MainWindow(engine_factory(make_study(tmp_path / "png")), clock=mono)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.slide_warmup.is_running, timeout=30_000)
    assert window.warmed_slide is None


def test_warm_up_skips_plain_tiffs_and_broken_slides(tmp_path, wsi_slides):
    from PIL import Image

    plain = tmp_path / "photo.tif"
    Image.new("RGB", (32, 32)).save(plain)
    broken = tmp_path / "broken.svs"
    broken.write_bytes(b"II*\x00not a slide")
    good = str(wsi_slides["subifds"].path)
    assert warm_up([str(tmp_path / "a.png"), str(plain), str(broken), good]) == good
    assert warm_up([str(plain), str(broken)]) is None
    assert warm_up([str(plain), good], max_checked=1) is None  # stops looking after max_checked files
