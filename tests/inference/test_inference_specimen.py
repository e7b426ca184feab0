"""Specimens through the model: every field scored, the spec's aggregation, the store round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.load import load_model
from inference.precompute import MemorySink, precompute
from inference.predict import predict
from inference.spec import SpecError, load_spec
from study.aioutput import field_cam_key
from study.media import load
from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml
from study.specimen import field_paths
from study.store import Store
from tests.inference.helpers import write_spec

LABELS = ["normal", "CIN1", "CIN2+"]
MODEL = {
    "architecture": "mobilenet_v2",
    "width_mult": 0.5,
    "head": "multiclass",
    "labels": LABELS,
    "positive": ["CIN2+"],
    "input_size": 64,
}


def _study(root: Path, aggregate: str | None) -> Path:
    """Two specimens: S1 lists three photos with ';', S2 is a folder of two photos."""
    (root / "media" / "S2").mkdir(parents=True)
    rng = np.random.default_rng(3)
    for name in ("a.png", "b.png", "c.png", "S2/f1.png", "S2/f2.png"):
        Image.fromarray(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(root / "media" / name)
    protocol = Protocol(
        "spec",
        "Specimens",
        "concurrent",
        1,
        Task("multiclass", "Worst field?", tuple(LABELS), positive=("CIN2+",)),
        HangingProtocol(("photo",), "none"),
        mode="triage",
        model_spec="models/m/model.toml",
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol))
    (root / "cases.csv").write_text(
        "case_id,truth,patient_id,photo\nS1,CIN1,P1,media/a.png;media/b.png;media/c.png\nS2,normal,P2,media/S2\n"
    )
    model = dict(MODEL, aggregate=aggregate) if aggregate else MODEL
    write_spec(root / "models" / "m", model, roles=("photo",))
    return root


def _cases(root: Path):
    from study.cases import load_cases
    from study.protocol import load_protocol

    return load_cases(root, load_protocol(root))


@pytest.mark.parametrize("aggregate", [None, "mean"])
def test_every_field_is_scored_and_the_specimen_aggregates(tmp_path, aggregate):
    root = _study(tmp_path, aggregate)
    cases = _cases(root)
    model = load_model(root / "models" / "m" / "model.toml")
    assert model.spec.aggregate == (aggregate or "max")
    sink = MemorySink()
    report = precompute(model, cases, sink)
    assert report.computed == 2 and not report.failed
    for case in cases:
        out = sink.outputs[(model.model_id, case.case_id)]
        paths = field_paths(case.media["photo"])
        assert len(out.fields) == len(paths) == (3 if case.case_id == "S1" else 2)
        # Each field's output is what the model gives that photo alone.
        singles = [predict(model, {"photo": load(p)}) for p in paths]
        for f, single in zip(out.fields, singles):
            assert f.score == pytest.approx(single.score, abs=1e-6)
            assert f.probabilities == pytest.approx(single.probabilities, abs=1e-6)
            cam = out.cams[field_cam_key("photo", f.index)]
            assert cam.shape[0] == 1 and 0 <= cam.min() and cam.max() <= 1
        scores = [s.score for s in singles]
        if aggregate == "mean":
            assert out.score == pytest.approx(np.mean(scores), abs=1e-6)
            assert out.probabilities == pytest.approx(np.mean([s.probabilities for s in singles], axis=0), abs=1e-6)
        else:
            assert out.score == pytest.approx(max(scores), abs=1e-6)
            p = np.array([s.probabilities for s in singles])  # fields x (normal, CIN1, CIN2+)
            at_least_cin1 = (p[:, 1] + p[:, 2]).max()
            expected = (1 - at_least_cin1, at_least_cin1 - p[:, 2].max(), p[:, 2].max())
            assert out.probabilities == pytest.approx(expected, abs=1e-6)
        assert out.aggregate == (aggregate or "max")


def test_specimen_outputs_survive_the_store(tmp_path):
    root = _study(tmp_path, None)
    store = Store.open(root)
    try:
        precompute(load_model(root / "models" / "m" / "model.toml"), _cases(root), _StoreSink(store))
        out = store.ai_output("S1")
        assert out is not None and len(out.fields) == 3 and out.aggregate == "max"
        assert {field_cam_key("photo", i) for i in range(3)} <= set(out.cams)
        assert out.score == pytest.approx(max(f.score for f in out.fields))
        assert store.verify_chain().ok
    finally:
        store.close()


class _StoreSink:
    def __init__(self, store: Store) -> None:
        self.store = store

    def done_case_ids(self, model_id: str) -> set[str]:
        return self.store.ai_output_case_ids(model_id)

    def put(self, output) -> None:
        self.store.put_ai_output(output)


def test_unknown_aggregate_is_a_clear_error(tmp_path):
    root = _study(tmp_path, "mean")
    toml = root / "models" / "m" / "model.toml"
    toml.write_text(toml.read_text().replace('aggregate = "mean"', 'aggregate = "median"'))
    with pytest.raises(SpecError) as err:
        load_spec(root / "models" / "m" / "model.toml")
    assert "model.aggregate" in str(err.value) and "'median' is not one of max, mean" in str(err.value)
