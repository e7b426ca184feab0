"""The shortcut-breaking augmentation of the demo training: a finding pasted on another background.

The masks must sit on the finding as the network sees it (an MRI slice's mass box through the
central crop, a clip's moving cells) and a "still" donor clip must carry no motion.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from inference.demo_cases import read_cases
from inference.preprocess import central, crop_box
from inference.train_demo import base_spec, donor_batch, finding_masks, images_for, paste_on_donor


@pytest.fixture(scope="module")
def mri_study(tmp_path_factory):
    from study.demo import builder

    return builder("mri")(tmp_path_factory.mktemp("mix") / "mri", 77, 4)


def test_mri_masks_follow_each_slice_box_through_the_crop(mri_study):
    cases = read_cases(mri_study)
    spec = base_spec("mri")
    x, owner, frame, hw = images_for(spec, cases, "T2sag")
    masks = finding_masks(mri_study, cases, "T2sag", spec, owner, frame, hw)
    assert masks.shape == (len(x), 1, *spec.input_size)
    boxes: dict[tuple[str, int], tuple[int, ...]] = {}
    with (mri_study / "lesions.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["role"] == "T2sag":
                boxes[(row["case_id"], int(row["frame"]))] = tuple(
                    int(row[k]) for k in ("row0", "col0", "row1", "col1")
                )
    n_slices = {i: int((owner == i).sum()) for i in range(len(cases))}
    assert set(n_slices.values()) == {spec.slice_count}
    with_box = 0
    for j, (i, k) in enumerate(zip(owner, frame)):
        assert k in central(16, spec.slice_count)  # the slices the prediction averages
        box = boxes.get((cases[i].case_id, int(k)))
        m = masks[j, 0].numpy()
        if box is None:
            assert m.max() == 0.0
            continue
        with_box += 1
        # The box in network-input pixels: minus the crop's corner, times the resize factor.
        r0, c0, r1, c1 = crop_box(hw[i], spec.crop)
        sy, sx = spec.input_size[0] / (r1 - r0), spec.input_size[1] / (c1 - c0)
        b = [(box[0] - r0) * sy, (box[1] - c0) * sx, (box[2] - r0) * sy, (box[3] - c0) * sx]
        cy, cx = int((b[0] + b[2]) / 2), int((b[1] + b[3]) / 2)
        assert m[cy, cx] > 0.9
        far = np.ones_like(m, bool)  # more than the widening and blur (8 px) away from the box
        far[max(0, int(b[0]) - 10) : int(b[2]) + 10, max(0, int(b[1]) - 10) : int(b[3]) + 10] = False
        assert m[far].max(initial=0.0) == 0.0
    assert with_box >= len(cases)  # every mass shows on some of its central slices


def test_a_still_donor_keeps_its_picture_and_loses_its_motion():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 8, 8)
    still = torch.tensor([float("nan"), -1.5, -2.0]).view(1, 3, 1, 1)
    donors = donor_batch(x, torch.tensor([4, 5]), still, 10, gen)
    assert donors.shape == (10, 3, 8, 8)
    for d in donors:  # channel 0 is one of the pool's pictures, the motion channels are constant
        assert any(torch.equal(d[0], x[k, 0]) for k in (4, 5))
    assert torch.all(donors[:, 1] == -1.5) and torch.all(donors[:, 2] == -2.0)
    assert torch.equal(donor_batch(x, torch.tensor([2]), None, 3, gen), x[[2, 2, 2]])


def test_the_finding_stays_and_the_background_is_the_donors():
    gen = torch.Generator().manual_seed(1)
    x, donors = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    masks = torch.zeros(2, 1, 4, 4)
    masks[0, 0, 1:3, 1:3] = 1.0  # the second image has no finding: never pasted
    out = paste_on_donor(x, masks, donors, gen, p=1.0)
    assert torch.all(out[0, 0, 1:3, 1:3] == 0.0) and out[0].sum() == 12.0
    assert torch.equal(out[1], x[1])
