"""Load a spec's weights (state dict or TorchScript) after checking their sha256."""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from inference.network import build_network
from inference.spec import Member, ModelSpec, SpecError, file_sha256, load_spec


@dataclass
class LoadedModel:
    """A spec with one network per role, in eval mode on ``device``."""

    spec: ModelSpec
    nets: dict[str, nn.Module]
    device: torch.device

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def cam_supported(self) -> bool:
        """TorchScript modules take no forward hooks, so they predict without CAMs."""
        return self.spec.cam_method != "none" and not any(
            isinstance(n, torch.jit.ScriptModule) for n in self.nets.values()
        )


def default_device(device: str | None = None) -> torch.device:
    """CPU unless asked; "auto" picks CUDA when present."""
    if device in (None, "", "cpu"):
        return torch.device("cpu")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SpecError([f"device {device!r}: CUDA is not available on this machine (use --device cpu)"])
    return torch.device(device)


def _is_torchscript(path: Path) -> bool:
    # A TorchScript archive is a zip holding code/ and constants.pkl; a state
    # dict saved by torch.save is a zip without them.
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())


def check_sha256(member: Member) -> None:
    got = file_sha256(member.weights)
    if got != member.sha256:
        raise SpecError([f"{member.weights}: sha256 mismatch (expected {member.sha256}, got {got})"])


def load_member(spec: ModelSpec, member: Member, device: torch.device) -> nn.Module:
    if not member.weights.is_file():
        raise SpecError([f"{member.weights}: weights file not found (role {member.role} in {spec.path})"])
    check_sha256(member)
    try:
        if _is_torchscript(member.weights):
            with warnings.catch_warnings():
                # torch 2.14 marks TorchScript deprecated; loading still works and is supported here.
                warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", FutureWarning)
                net = torch.jit.load(str(member.weights), map_location=device)
        else:
            # weights_only: a weights file must never run code when loaded.
            state = torch.load(member.weights, map_location="cpu", weights_only=True)
            if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
                state = state["state_dict"]
            net = build_network(spec)
            # load_state_dict copies into float32 parameters, so float16 files load as is.
            net.load_state_dict(state)
            net = net.to(device)
    except SpecError:
        raise
    except Exception as err:  # noqa: BLE001 - any torch load failure is a bad file for the user
        cause = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        what = f"{spec.architecture}/{spec.head}"
        raise SpecError([f"{member.weights}: cannot load weights for {what}: {cause}"]) from None
    net.eval()
    return net


def load_model(spec: ModelSpec | str | Path, device: str | torch.device | None = None) -> LoadedModel:
    """Load every member's weights; raise SpecError naming the file on any problem."""
    if not isinstance(spec, ModelSpec):
        spec = load_spec(spec)
    dev = device if isinstance(device, torch.device) else default_device(device)
    nets = {m.role: load_member(spec, m, dev) for m in spec.members}
    return LoadedModel(spec, nets, dev)
