"""A small region study on disk, for the store, reading and benchmark tests.

Synthetic 2-D PNG photos (a bright disc on a textured dark background, the
"optic disc" readers outline) with their truth masks, plus scikit-image's
real fundus photo (``skimage.data.retina()``, 1411 x 1411) whose optic disc
is a disc around the brightest point of the smoothed photo.  AI outputs are
segmentation probabilities at reduced size (64 x 64) with measurements.
"""

from __future__ import annotations

import copy
import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage
from PIL import Image
from scipy import ndimage

from study.aioutput import AIOutput
from study.protocol import HangingProtocol, Protocol, Task, protocol_to_toml
from study.regiongeometry import circularity
from study.store import Store
from tests.aimodel import attach_test_model

PIN = "2468"
READERS = (("r1", "resident"), ("r2", "specialist"))
SPACING_MM = 0.02
TASK = Task(
    "region",
    "Outline the optic disc",
    labels=("healthy", "glaucoma"),
    confidence="0-100",
    region="optic disc",
    spacing_mm=SPACING_MM,
    also="binary",
    also_question="Glaucoma?",
)


@dataclass
class RegionStudy:
    path: Path
    protocol: Protocol
    case_ids: list[str]
    truth_masks: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, int]]

    def put_ai(self) -> dict[str, AIOutput]:
        """One segmentation output per case: the truth disc shifted by 3 px, at 64 x 64."""
        attach_test_model(self.path)
        outs = {}
        store = Store.open(self.path)
        try:
            for cid in self.case_ids:
                truth = self.truth_masks[cid]
                shifted = np.roll(truth, 3, axis=1)
                small = np.asarray(Image.fromarray(shifted.astype(np.float32)).resize((64, 64), Image.BILINEAR))
                out = AIOutput(
                    cid,
                    "seg-test",
                    "segmentation",
                    ("background", self.protocol.task.region),
                    predicted=self.protocol.task.region,
                    score=float(shifted.mean()),
                    cams={"photo": np.clip(small, 0, 1)[None].astype(np.float16)},
                    measurements={
                        "faz_area_mm2": float(shifted.sum() * SPACING_MM**2),
                        "circularity": circularity(shifted),
                    },
                )
                store.put_ai_output(out)
                outs[cid] = out
        finally:
            store.close()
        return outs


def synthetic_photo(size: int, radius: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 (size, size) image, bool truth mask): a bright ellipse on speckled vessels-like texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = size / 2 + rng.uniform(-8, 8), size / 2 + rng.uniform(-8, 8)
    mask = ((yy - cy) / radius) ** 2 + ((xx - cx) / (radius * 1.15)) ** 2 <= 1.0
    texture = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), 2.0)
    img = 60 + 25 * texture / texture.std() + 120 * ndimage.gaussian_filter(mask.astype(float), 1.5)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def retina_disc(photo: np.ndarray, radius: float = 95.0) -> np.ndarray:
    """The optic disc of the fundus photo: a disc of ``radius`` px (about the disc's size in
    ``skimage.data.retina()``) around the brightest point of the heavily smoothed photo."""
    g = ndimage.gaussian_filter(photo.astype(np.float32).sum(axis=2), 45)
    cy, cx = np.unravel_index(np.argmax(g), g.shape)
    yy, xx = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2


def _finish(root: Path, protocol: Protocol, role: str, rows: list, ids: list, masks: dict, shapes: dict) -> RegionStudy:
    """cases.csv (one media column, ``role``, and the truth mask) and the study's readers."""
    with open(root / "cases.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "truth", "patient_id", role, "truth_mask"])
        w.writerows(rows)
    store = Store.open(root)
    try:
        for code, group in READERS:
            store.add_reader(code, group, PIN)
    finally:
        store.close()
    return RegionStudy(root, protocol, ids, masks, shapes)


def write_region_study(
    root: Path, *, design: str = "sequential", n: int = 3, size: int = 128, retina: bool = True
) -> RegionStudy:
    root.mkdir(parents=True, exist_ok=True)
    protocol = Protocol(
        "region-tiny",
        "Tiny region study",
        design,
        11,
        TASK,
        HangingProtocol(("photo",), "position"),
        washout_days=28,
        groups=("resident", "specialist"),
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    (root / "media").mkdir(exist_ok=True)
    (root / "truth").mkdir(exist_ok=True)
    rows, ids, masks, shapes = [], [], {}, {}
    for i in range(n):
        cid = f"RG{101 + i}"
        img, mask = synthetic_photo(size, size * (0.16 + 0.04 * i), seed=i)
        Image.fromarray(img).save(root / "media" / f"{cid}.png")
        Image.fromarray(mask.astype(np.uint8) * 255).save(root / "truth" / f"{cid}.png")
        rows.append((cid, str(i % 2), f"P{i}", f"media/{cid}.png", f"truth/{cid}.png"))
        ids.append(cid)
        masks[cid], shapes[cid] = mask, mask.shape
    if retina:
        cid = "RG900"
        src = Path(skimage.data_dir) / "retina.jpg"
        shutil.copy(src, root / "media" / f"{cid}.jpg")
        with Image.open(src) as im:
            photo = np.asarray(im.convert("RGB"))
        mask = retina_disc(photo)
        Image.fromarray(mask.astype(np.uint8) * 255).save(root / "truth" / f"{cid}.png")
        rows.append((cid, "0", "P900", f"media/{cid}.jpg", f"truth/{cid}.png"))
        ids.append(cid)
        masks[cid], shapes[cid] = mask, mask.shape
    return _finish(root, protocol, "photo", rows, ids, masks, shapes)


# -- a region task on a DICOM series (several slices) ------------------------------------------
MR_SPACING = (0.3125, 0.3125)  # PixelSpacing of pydicom's MR_small.dcm


def write_mr_series(
    folder: Path,
    n: int = 4,
    seed: int = 0,
    spacing: bool = True,
    offsets: tuple[float, ...] | None = None,
    positions: bool = True,
) -> np.ndarray:
    """A real MR series of ``n`` slices: pydicom's bundled MR_small.dcm (64 x 64, 0.3125 mm
    pixels, SliceThickness 0.8 mm) with each slice's pixels shifted, its own position 0.8 mm
    apart (or at ``offsets`` mm along z from the template's), instance number and UIDs;
    written in reversed file order (the loader sorts by position).  ``spacing=False`` drops
    PixelSpacing, ``positions=False`` ImagePositionPatient and SliceLocation.  Returns the
    (n, 64, 64) stored pixels in slice order."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    template = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    series_uid = generate_uid(entropy_srcs=["readerstudy-test-series", str(folder.name), str(seed)])
    stack = []
    x, y, z = (float(v) for v in template.ImagePositionPatient)
    offsets = offsets or tuple(0.8 * k for k in range(n))
    for k in range(n):
        ds = copy.deepcopy(template)  # Dataset.copy() shares the elements: positions would add up
        pixels = np.roll(template.pixel_array, 3 * k + seed, axis=1)
        ds.PixelData = pixels.astype(template.pixel_array.dtype).tobytes()
        ds.ImagePositionPatient = [x, y, z + offsets[k]]
        ds.SliceLocation = offsets[k]
        if not positions:
            del ds.ImagePositionPatient, ds.SliceLocation
        ds.InstanceNumber = k + 1
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[series_uid, str(k)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        if not spacing:
            del ds.PixelSpacing
        ds.save_as(folder / f"IM{n - k:04d}", enforce_file_format=True)
        stack.append(pixels)
    return np.stack(stack)


def disc_stack(n: int, size: int, slices: dict[int, tuple[float, float, float]]) -> np.ndarray:
    """bool (n, size, size): on each listed slice a disc (row, col, radius); other slices empty."""
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.zeros((n, size, size), dtype=bool)
    for k, (cy, cx, r) in slices.items():
        out[k] = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    return out


SERIES_TASK = Task("region", "Outline the lesion", region="lesion", role="mr")


def write_series_region_study(
    root: Path, *, design: str = "sequential", n: int = 2, offsets: tuple[float, ...] | None = None
) -> RegionStudy:
    """A region study on MR series (role ``mr``, 4 slices each, spacing from the DICOM headers;
    slices 0.8 mm apart, or at ``offsets`` mm, as :func:`write_mr_series`): truth masks are
    (4, 64, 64) ``.npy`` stacks with a disc on slices 1 and 2."""
    root.mkdir(parents=True, exist_ok=True)
    protocol = Protocol(
        "region-series",
        "Region study on MR series",
        design,
        13,
        SERIES_TASK,
        HangingProtocol(("mr",), "position"),
        washout_days=28,
        groups=("resident", "specialist"),
    )
    (root / "study.toml").write_text(protocol_to_toml(protocol), encoding="utf-8")
    (root / "truth").mkdir(exist_ok=True)
    rows, ids, masks, shapes = [], [], {}, {}
    for i in range(n):
        cid = f"MS{201 + i}"
        write_mr_series(root / "media" / cid, n=4, seed=i, offsets=offsets)
        mask = disc_stack(4, 64, {1: (30, 30, 8 + i), 2: (32, 30, 10 + i)})
        np.save(root / "truth" / f"{cid}.npy", mask)
        rows.append((cid, "", f"P{i}", f"media/{cid}", f"truth/{cid}.npy"))
        ids.append(cid)
        masks[cid], shapes[cid] = mask, mask.shape
    return _finish(root, protocol, "mr", rows, ids, masks, shapes)


def put_series_ai(study: RegionStudy) -> None:
    """A segmentation output per series case: the truth discs shifted 2 px, per slice at 32 x 32."""
    attach_test_model(study.path)
    store = Store.open(study.path)
    try:
        for cid in study.case_ids:
            shifted = np.roll(study.truth_masks[cid], 2, axis=2).astype(np.float32)
            small = np.stack([np.asarray(Image.fromarray(p).resize((32, 32), Image.BILINEAR)) for p in shifted])
            store.put_ai_output(
                AIOutput(
                    cid,
                    "seg-test",
                    "segmentation",
                    ("background", study.protocol.task.region),
                    predicted=study.protocol.task.region,
                    score=float(shifted.mean()),
                    cams={"mr": np.clip(small, 0, 1).astype(np.float16)},
                )
            )
    finally:
        store.close()
