"""torchvision networks for a spec: built with ``weights=None``, head sized for the task.

Nothing is downloaded: the builders get ``weights=None`` and the trained weights
come from the spec's local files (see ``inference.load``).
"""

from __future__ import annotations

import torch
import torchvision.models as tvm
from torch import nn
from torch.nn import functional as F

from inference.spec import ModelSpec

_BUILDERS = {
    "mobilenet_v2": tvm.mobilenet_v2,
    "mobilenet_v3_large": tvm.mobilenet_v3_large,
    "resnet18": tvm.resnet18,
    "resnet50": tvm.resnet50,
    "densenet121": tvm.densenet121,
    "vgg16": tvm.vgg16,
    "efficientnet_b0": tvm.efficientnet_b0,
}


class SegmentationNet(nn.Module):
    """Backbone feature map -> 1x1 conv -> bilinear upsampling to the input size (an FCN head)."""

    def __init__(self, backbone: nn.Module, in_channels: int, n_out: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Conv2d(in_channels, n_out, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.classifier(self.backbone(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def _backbone(arch: str, net: nn.Module) -> nn.Module:
    if arch.startswith("resnet"):
        return nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4)
    return net.features


def _set_module(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent_name) if parent_name else root, child, new)


def _first_conv_to(net: nn.Module, channels: int) -> None:
    """Replace the stem convolution so the network reads ``channels`` input planes."""
    name, conv = next((n, m) for n, m in net.named_modules() if isinstance(m, nn.Conv2d))
    new = nn.Conv2d(
        channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.bias is not None,
    )
    _set_module(net, name, new)


def build_network(spec: ModelSpec) -> nn.Module:
    """An untrained network of the spec's architecture with the task's head."""
    if spec.architecture == "unet":
        from inference.unet import UNet

        return UNet(spec.channels, spec.n_outputs, spec.width_mult or 1.0)
    kwargs: dict = {"weights": None}
    if spec.width_mult is not None:
        kwargs["width_mult"] = spec.width_mult
    if spec.head == "segmentation":
        net = _BUILDERS[spec.architecture](**kwargs)
        backbone = _backbone(spec.architecture, net)
        with torch.no_grad():
            c = backbone(torch.zeros(1, 3, 64, 64)).shape[1]
        net = SegmentationNet(backbone, c, spec.n_outputs)
    else:
        # num_classes sizes the torchvision classifier for the head directly.
        net = _BUILDERS[spec.architecture](num_classes=spec.n_outputs, **kwargs)
    if spec.channels != 3:
        _first_conv_to(net, spec.channels)
    return net


def find_target_layer(net: nn.Module, name: str | None = None) -> nn.Module:
    """The CAM target layer: ``name`` if given, else found from the last Conv2d.

    The last Conv2d is promoted to the top-level block that contains it
    (torchvision's ``features`` or ``layer4``), whose output is the last
    convolutional feature map after normalization and activation, the layer
    Grad-CAM reads (Selvaraju et al. 2017).  For a flat network the Conv2d
    itself is top level and is used as is.
    """
    if name:
        try:
            return net.get_submodule(name)
        except AttributeError:
            names = [n for n, _ in net.named_modules() if n]
            raise ValueError(f"target layer {name!r} not found; some names: {', '.join(names[-8:])}") from None
    convs = [n for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("the network has no Conv2d layer; set cam.target_layer")
    last = convs[-1]
    if isinstance(net, SegmentationNet):
        return net.backbone
    top = last.split(".")[0]
    return net.get_submodule(top)
