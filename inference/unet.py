"""U-Net (Ronneberger, Fischer & Brox 2015) and its channel-narrowed variant.

The topology of the paper: four 2x2 max-pool downsamplings, two 3x3
convolutions per level (here padded, with batch normalization, so the output
has the input's size), 2x2 transposed-convolution upsampling and skip
concatenation, a 1x1 output convolution.  Channels per level are
``64·w, 128·w, 256·w, 512·w, 1024·w`` for a width multiplier ``w``: w = 1 is
the full U-Net (31.0 M parameters); because convolution weights scale with the
product of input and output channels, parameters scale with w², so w = 0.32
keeps about a tenth of them (3.2 M): the "channel narrowing" of lightweight
segmentation networks (the same idea as MobileNet's width multiplier, Howard
et al. 2017).

Input (B, C, H, W) with H and W multiples of 16; output (B, n_out, H, W) logits.
"""

from __future__ import annotations

import torch
from torch import nn

FULL_WIDTHS = (64, 128, 256, 512, 1024)


def widths(width_mult: float = 1.0) -> tuple[int, ...]:
    """Channels per level for a width multiplier (at least 4 each, rounded to a multiple of 2)."""
    if not 0 < width_mult <= 4:
        raise ValueError(f"U-Net width multiplier must be in (0, 4], got {width_mult}")
    return tuple(max(4, int(round(c * width_mult / 2)) * 2) for c in FULL_WIDTHS)


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net with a width multiplier; see the module doc for shapes."""

    def __init__(self, in_channels: int, n_out: int, width_mult: float = 1.0) -> None:
        super().__init__()
        c = widths(width_mult)
        self.width_mult = width_mult
        self.down = nn.ModuleList([_double_conv(in_channels, c[0])] + [_double_conv(c[i], c[i + 1]) for i in range(4)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(c[i + 1], c[i], 2, stride=2) for i in reversed(range(4))])
        self.merge = nn.ModuleList([_double_conv(2 * c[i], c[i]) for i in reversed(range(4))])
        self.head = nn.Conv2d(c[0], n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 16 or x.shape[-2] % 16:
            raise ValueError(f"U-Net input height and width must be multiples of 16, got {tuple(x.shape[-2:])}")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
