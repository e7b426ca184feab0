"""model.toml parsing errors name file and key; weights are checked by sha256 on load."""

from __future__ import annotations

import warnings

import pytest
import torch

from inference.load import load_model
from inference.network import build_network
from inference.spec import SpecError, file_sha256, load_spec
from tests.inference.helpers import write_spec

BASE = {
    "architecture": "mobilenet_v2",
    "width_mult": 0.5,
    "head": "binary",
    "labels": ["benign", "malignant"],
    "input_size": 64,
}


def _errors(tmp_path, text: str) -> list[str]:
    path = tmp_path / "model.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    for line in info.value.problems:
        assert line.startswith(f"{path.resolve()}: ") or line.startswith(f"{path}: "), line
    return info.value.problems


def test_valid_spec_round_trip(tmp_path):
    path = write_spec(
        tmp_path,
        BASE,
        roles=("T2axi", "DWI"),
        tables={"cam": {"method": "hirescam", "size": 80}, "slices": {"count": 3}},
    )
    spec = load_spec(path)
    assert spec.roles == ("T2axi", "DWI")
    assert spec.input_size == (64, 64) and spec.channels == 3 and spec.width_mult == 0.5
    assert spec.cam_method == "hirescam" and spec.cam_size == 80 and spec.slice_count == 3
    assert spec.n_outputs == 2
    # An ensemble's id is derived from all members' hashes, so it differs from each.
    assert spec.model_id not in {m.sha256 for m in spec.members} and len(spec.model_id) == 64
    assert load_spec(tmp_path) == spec  # a folder means its model.toml


def test_every_problem_names_file_and_key(tmp_path):
    problems = _errors(
        tmp_path,
        """
[model]
architecture = "alexnet"
head = "binary"
labels = ["only-one"]
channels = 2
input_size = [64]
colour = "red"

[cam]
method = "magic"
size = 4

[[members]]
role = "T2axi"
weights = "missing.pt"
sha256 = "abc"
""",
    )
    text = "\n".join(problems)
    for key in (
        "model.architecture",
        "model.labels",
        "model.channels",
        "model.input_size",
        "model.colour",
        "cam.method",
        "cam.size",
        "members[0].weights",
        "members[0].sha256",
    ):
        assert f": {key}: " in text, (key, text)
    assert "'alexnet' is not one of mobilenet_v2" in text
    assert "unknown key" in text


def test_missing_tables_and_bad_toml(tmp_path):
    assert any("model: missing required table" in p for p in _errors(tmp_path, "x = 1\n"))
    assert any(
        "members: missing" in p for p in _errors(tmp_path, '[model]\narchitecture = "resnet18"\nhead = "regression"\n')
    )
    assert any("invalid TOML" in p for p in _errors(tmp_path, "[model\n"))
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.toml")


def test_width_mult_only_for_mobilenet_v2(tmp_path):
    problems = _errors(
        tmp_path,
        """
[model]
architecture = "resnet18"
width_mult = 0.5
head = "multiclass"
labels = ["a", "b", "b"]
[[members]]
role = "x"
weights = "w.pt"
sha256 = "%s"
"""
        % ("0" * 64),
    )
    text = "\n".join(problems)
    assert "model.width_mult: only mobilenet_v2 and unet take width_mult" in text
    assert "model.labels: labels must be non-empty and distinct" in text


def test_sha256_mismatch_is_a_clear_error(tmp_path):
    path = write_spec(tmp_path, BASE)
    load_model(path)  # intact: loads
    weights = tmp_path / "image.pt"
    expected = file_sha256(weights)
    with open(weights, "ab") as f:
        f.write(b"tampered")
    got = file_sha256(weights)
    with pytest.raises(SpecError) as info:
        load_model(path)
    assert str(info.value) == f"{weights.resolve()}: sha256 mismatch (expected {expected}, got {got})"


def test_wrong_architecture_weights_are_reported(tmp_path):
    path = write_spec(tmp_path, BASE)
    spec = load_spec(path)
    resnet = {k: v for k, v in BASE.items() if k != "width_mult"} | {"architecture": "resnet18"}
    other = build_network(load_spec(write_spec(tmp_path / "r", resnet)))
    torch.save(other.state_dict(), spec.members[0].weights)
    text = path.read_text().replace(spec.members[0].sha256, file_sha256(spec.members[0].weights))
    path.write_text(text)
    with pytest.raises(SpecError, match=r"image\.pt: cannot load weights for mobilenet_v2/binary"):
        load_model(path)


def test_float16_state_dict_and_torchscript_load(tmp_path):
    path = write_spec(tmp_path, BASE)
    spec = load_spec(path)
    net = load_model(path).nets["image"]
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        reference = net(x)
    # float16 weights (halves the shipped size) load into a float32 network.
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    torch.save(half, spec.members[0].weights)
    # TorchScript of the same network.
    ts_dir = tmp_path / "ts"
    ts_path = write_spec(ts_dir, BASE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated in torch 2.14
        torch.jit.save(torch.jit.trace(net, x), ts_dir / "image.pt")
    for p, w in ((path, spec.members[0].weights), (ts_path, ts_dir / "image.pt")):
        p.write_text(
            "\n".join(
                line if not line.startswith("sha256") else f'sha256 = "{file_sha256(w)}"'
                for line in p.read_text().splitlines()
            )
        )
    half_model = load_model(path)
    ts_model = load_model(ts_path)
    with torch.no_grad():
        assert torch.allclose(half_model.nets["image"](x), reference, atol=2e-2)
        assert torch.allclose(ts_model.nets["image"](x), reference, atol=1e-5)
    assert half_model.cam_supported and not ts_model.cam_supported


def test_member_window(tmp_path):
    path = write_spec(tmp_path, BASE, roles=("DWI",))
    text = path.read_text()
    path.write_text(text.replace('role = "DWI"', 'role = "DWI"\nwindow = [400, 800]'))
    assert load_spec(path).members[0].window == (400.0, 800.0)
    path.write_text(text.replace('role = "DWI"', 'role = "DWI"\nwindow = [400, -1]'))
    with pytest.raises(SpecError, match=r"members\[0\]\.window: expected \[center, width\] with width > 0"):
        load_spec(path)
