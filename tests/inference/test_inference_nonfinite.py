"""NaN/inf pixels never reach the network, and a NaN prediction is never returned or stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from inference.load import load_model
from inference.precompute import MemorySink, precompute
from inference.predict import predict
from study.media import load
from study.media.types import MediaError
from tests.inference.helpers import write_spec
from tests.inference.test_inference_precompute import MODEL, _cases, _study


def _nan_tiff(path: Path) -> Path:
    data = np.random.default_rng(0).random((40, 56)).astype(np.float32)
    data[:, :8] = np.nan  # background outside the field of view, as some exporters write it
    data[0, 20] = np.inf
    tifffile.imwrite(path, data)
    return path


def test_a_float_image_with_nan_is_refused_with_the_file_and_cause(tmp_path: Path) -> None:
    model = load_model(write_spec(tmp_path / "m", MODEL, roles=("photo",)))
    media = load(_nan_tiff(tmp_path / "nan.tif"))
    assert media.nonfinite == 40 * 8 + 1
    with pytest.raises(MediaError) as info:
        predict(model, {"photo": media}, case_id="K1")
    assert info.value.path == str(tmp_path / "nan.tif")
    assert "321 non-finite pixel values" in info.value.cause


def test_a_network_giving_nan_raises_instead_of_returning_a_label(tmp_path: Path) -> None:
    model = load_model(write_spec(tmp_path / "m", MODEL, roles=("photo",)))
    net = model.nets["photo"]
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(float("nan"))
    frames = np.random.default_rng(1).integers(0, 256, (1, 40, 56, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="not finite"):
        predict(model, {"photo": load_media_like(frames)}, case_id="K1")


def load_media_like(frames: np.ndarray):  # a photo Media without a file
    from study.media.types import Media

    return Media(frames=frames, kind="image", source="photo.png")


def test_precompute_marks_the_nan_case_unreadable_and_stores_nothing_for_it(tmp_path: Path) -> None:
    root = _study(tmp_path / "s")
    # K001 becomes a float TIFF with a NaN background
    _nan_tiff(root / "media" / "K001.png.tif")
    text = (root / "cases.csv").read_text().replace("media/K001.png", "media/K001.png.tif")
    (root / "cases.csv").write_text(text)
    sink = MemorySink()
    report = precompute(root / "models" / "m" / "model.toml", _cases(root), sink)
    failed = dict(report.failed)
    assert "K001" in failed and "non-finite" in failed["K001"] and "K001.png.tif" in failed["K001"]
    assert "K001" not in {c for _, c in sink.outputs}
    for out in sink.outputs.values():
        assert np.all(np.isfinite(out.probabilities))
