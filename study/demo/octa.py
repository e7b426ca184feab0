"""Demo study 5: the foveal avascular zone (FAZ) on en-face OCT angiography, and glaucoma.

Each 304x304 8-bit image is a synthetic superficial-plexus en-face OCTA scan of
3 x 3 mm (the common Optovue/Zeiss macular protocol), so one pixel is
3 / 304 = 0.009868 mm on each side (``SPACING_MM``); areas are in mm².
The picture: a mesh of bright capillaries with a few larger branching vessels,
around a dark central avascular zone whose border the capillaries end on
(a denser parafoveal ring), with multiplicative speckle and sensor noise.

The FAZ outline is a radial function R(θ) = r0 (1 + Σ a_k cos(kθ + φ_k)),
k = 2..5.  Glaucoma enlarges the FAZ and makes it less circular (Choi et al.
2017; Kwon et al. 2017 report FAZ area about 0.28 mm² in controls and 0.35-0.45
mm² in glaucoma, with overlap): here area ~ N(0.27, 0.07) mm² for normal eyes
and N(0.38, 0.09) mm² for glaucoma, and shape amplitudes three times larger on
average in glaucoma, so circularity 4πA/P² overlaps between classes as well.

Truth: ``truth`` is the glaucoma label (0 normal, 1 glaucoma) and
``truth_mask`` the FAZ mask (1-bit PNG, same size as the image) per case;
``latent.csv`` lists each case's FAZ area (mm²) and circularity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from study.demo.common import (
    DEFAULT_SEED,
    DEMO_GROUPS,
    case_codes,
    exact_labels,
    prepare_study_dir,
    rng_for,
    smooth_noise,
    write_csv,
    write_demo_json,
)
from study.stats.regions import circularity

NAME = "octa"
ROLES = ("octa",)
SIZE = 304
SCAN_MM = 3.0
SPACING_MM = SCAN_MM / SIZE  # 0.009868 mm per pixel (rows and columns)
DEFAULT_N = 120
LABELS = ("normal", "glaucoma")
# FAZ area (mm²): mean, SD per class (normal, glaucoma)
AREA = ((0.27, 0.07), (0.38, 0.09))
# Mean amplitude of the outline's harmonics per class: glaucoma FAZ are less circular.
WOBBLE = (0.035, 0.10)


def faz_outline(rng: np.random.Generator, glaucoma: bool) -> tuple[float, np.ndarray, np.ndarray, float]:
    """(r0 px, amplitudes a_k, phases φ_k for k = 2..5, target area mm²) of one FAZ."""
    mean, sd = AREA[int(glaucoma)]
    area_mm2 = float(np.clip(rng.normal(mean, sd), 0.08, 0.9))
    amp = rng.exponential(WOBBLE[int(glaucoma)], 4) / np.array([1.0, 1.4, 1.8, 2.2])
    amp = np.minimum(amp, 0.22)
    phase = rng.uniform(0, 2 * np.pi, 4)
    # Area of a radial curve: A = ½∫R² dθ = π r0² (1 + ½ Σ a_k²).
    area_px = area_mm2 / SPACING_MM**2
    r0 = float(np.sqrt(area_px / (np.pi * (1 + 0.5 * np.sum(amp**2)))))
    return r0, amp, phase, area_mm2


def _radius(theta: np.ndarray, r0: float, amp: np.ndarray, phase: np.ndarray) -> np.ndarray:
    k = np.arange(2, 2 + len(amp))
    return r0 * (1 + np.sum(amp[:, None, None] * np.cos(k[:, None, None] * theta[None] + phase[:, None, None]), 0))


def _trunks(rng: np.random.Generator, cy: float, cx: float, stop: float) -> np.ndarray:
    """Larger vessels: random walks from the scan edge towards the fovea, branching, ending near the FAZ."""
    acc = np.zeros((SIZE, SIZE), np.float32)
    walkers = []
    for a in rng.uniform(0, 2 * np.pi, int(rng.integers(5, 9))):
        walkers.append([cy + 210 * np.sin(a), cx + 210 * np.cos(a), a + np.pi, 2.2])
    steps = 0
    while walkers and steps < 4000:
        y, x, heading, width = walkers.pop()
        for _ in range(400):
            steps += 1
            r = np.hypot(y - cy, x - cx)
            if r < stop + rng.uniform(4, 20) or width < 0.6:
                break
            to_centre = np.arctan2(cy - y, cx - x)
            heading += 0.15 * np.sin(to_centre - heading) + rng.normal(0, 0.18)
            y, x = y + np.sin(heading), x + np.cos(heading)
            iy, ix = int(round(y)), int(round(x))
            if 0 <= iy < SIZE and 0 <= ix < SIZE:
                acc[iy, ix] += width
            if rng.random() < 0.012 and len(walkers) < 40:
                walkers.append([y, x, heading + rng.choice([-1, 1]) * rng.uniform(0.5, 1.1), width * 0.7])
                width *= 0.85
    return np.clip(gaussian_filter(acc, 1.1) * 1.6, 0, 1)


def render_scan(seed: int, index: int, glaucoma: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    """(uint8 image (304, 304), bool FAZ mask (304, 304), latent values) of one eye."""
    rng = rng_for(seed, NAME, "scan", index)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    cy, cx = SIZE / 2 + rng.normal(0, 8), SIZE / 2 + rng.normal(0, 8)
    r0, amp, phase, _ = faz_outline(rng, glaucoma)
    rr, theta = np.hypot(yy - cy, xx - cx), np.arctan2(yy - cy, xx - cx)
    edge = _radius(theta, r0, amp, phase)
    mask = rr < edge
    # Capillary mesh: thin bright lines along the zero sets of smooth random fields.
    mesh = np.zeros((SIZE, SIZE), np.float32)
    for scale, gain in ((14.0, 0.8), (8.0, 0.6)):
        mesh += gain * np.exp(-((smooth_noise(rng, SIZE, scale) / 0.16) ** 2))
    ring = np.exp(-(((rr - edge - 2.5) / 1.6) ** 2)) * (0.6 + 0.4 * smooth_noise(rng, SIZE, 6).clip(-1, 1))
    vessels = np.clip(mesh + 0.7 * ring, 0, 1.2) * (0.75 + 0.25 * smooth_noise(rng, SIZE, 40))
    vessels = np.maximum(vessels, _trunks(rng, cy, cx, r0))
    outside = np.clip((rr - edge) / 2.0 + 0.5, 0, 1)  # capillaries end at the FAZ border
    signal = 0.07 + 0.8 * vessels * outside
    brightness = rng.uniform(0.8, 1.15) * (1 - 0.25 * (rr / SIZE) ** 2)
    speckle = rng.gamma(4.0, 1 / 4.0, (SIZE, SIZE))
    img = gaussian_filter(signal * brightness * speckle, 0.6) + rng.normal(0, 0.025, (SIZE, SIZE))
    area_mm2 = float(mask.sum() * SPACING_MM**2)
    latent = dict(
        glaucoma=int(glaucoma),
        faz_area_mm2=round(area_mm2, 5),
        faz_circularity=round(circularity(mask), 4),
        centre_row=round(float(cy), 2),
        centre_col=round(float(cx), 2),
    )
    return (np.clip(img, 0, 1) * 255).astype(np.uint8), mask, latent


def study_toml(seed: int) -> str:
    """study.toml of the demo: a region task (the FAZ) combined with a glaucoma likelihood 0-100."""
    return f"""[study]
id = "demo-octa-faz-glaucoma"
title = "Demo: FAZ on OCT angiography and glaucoma (synthetic)"
design = "sequential"
washout_days = 28
seed = {int(seed)}
mode = "reading"
feedback = false
show_timer = true
time_limit_seconds = 0
min_read_seconds = 2.0

[readers]
groups = ["{DEMO_GROUPS[0]}", "{DEMO_GROUPS[1]}"]

[task]
kind = "region"
question = "Outline the foveal avascular zone (FAZ)"
region = "FAZ"
role = "octa"
spacing_mm = {SPACING_MM!r}
also = "binary"
also_question = "Glaucoma?"
labels = ["{LABELS[0]}", "{LABELS[1]}"]
confidence = "0-100"

[hanging]
roles = ["octa"]
sync = "none"

[model]
spec = "models/{NAME}/model.toml"
"""


def build_octa(study_dir: Path, seed: int = DEFAULT_SEED, n: int | None = None) -> Path:
    n = DEFAULT_N if n is None else n
    study_dir = prepare_study_dir(Path(study_dir))
    (study_dir / "media").mkdir()
    (study_dir / "masks").mkdir()
    rng = rng_for(seed, NAME)
    labels = exact_labels(rng, n, (0.5, 0.5))
    codes = case_codes(rng, n)
    patients = case_codes(rng, n, prefix="P")
    dpi = 25.4 / SPACING_MM  # the PNG's pHYs chunk carries the pixel spacing too
    cases, latents = [], []
    for i in range(n):
        img, mask, latent = render_scan(seed, i, bool(labels[i]))
        rel, mask_rel = f"media/{codes[i]}.png", f"masks/{codes[i]}.png"
        Image.fromarray(img).save(study_dir / rel, compress_level=3, dpi=(dpi, dpi))
        Image.fromarray(mask).convert("1").save(study_dir / mask_rel, dpi=(dpi, dpi))
        cases.append(
            dict(case_id=codes[i], truth=str(int(labels[i])), patient_id=patients[i], octa=rel, truth_mask=mask_rel)
        )
        latents.append(dict(case_id=codes[i], **latent))
    (study_dir / "study.toml").write_text(study_toml(seed), encoding="utf-8")
    write_csv(
        study_dir / "cases.csv",
        ["case_id", "truth", "patient_id", *ROLES, "truth_mask"],
        sorted(cases, key=lambda r: r["case_id"]),
    )
    write_csv(study_dir / "latent.csv", list(latents[0]), sorted(latents, key=lambda r: r["case_id"]))
    write_demo_json(
        study_dir,
        NAME,
        seed,
        n,
        spacing_mm=[SPACING_MM, SPACING_MM],
        scan_mm=[SCAN_MM, SCAN_MM],
        files={
            "masks/": "truth FAZ mask per case (1-bit PNG, the image's size)",
            "latent.csv": "generating values per case: glaucoma, FAZ area (mm²), circularity, centre",
        },
    )
    return study_dir
