"""Demo study 4: haemoglobin (g/dL) from a photo of the lower palpebral conjunctiva.

Each 256x256 RGB photo shows an eye with the lower lid pulled down: skin,
sclera, iris, and the exposed conjunctiva whose colour runs from pale
(anaemia) to deep red with the haemoglobin value, with fine vessels.  Skin
tone, iris colour, white balance, exposure, glare and an occasional inflamed
(red for another reason) conjunctiva vary independently, so redness is a real
but imperfect cue.  ``lesions.csv`` boxes the conjunctiva (where a CAM should
look).
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
    prepare_study_dir,
    rng_for,
    smooth_noise,
    write_cases,
    write_csv,
    write_demo_json,
    write_protocol,
)
from study.protocol import HangingProtocol, Protocol, Task

NAME = "conjunctiva"
ROLES = ("photo",)
SIZE = 256
DEFAULT_N = 200
HB_MIN, HB_MAX = 6.0, 17.0

PALE = np.array([238.0, 196.0, 188.0])  # conjunctiva at Hb 6
RED = np.array([178.0, 40.0, 52.0])  # conjunctiva at Hb 17
SKIN_LIGHT = np.array([228.0, 180.0, 150.0])
SKIN_DARK = np.array([105.0, 66.0, 46.0])
IRIS = [
    np.array([92.0, 58.0, 32.0]),
    np.array([60.0, 100.0, 140.0]),
    np.array([40.0, 28.0, 20.0]),
    np.array([90.0, 110.0, 70.0]),
]


def protocol(seed: int) -> Protocol:
    return Protocol(
        study_id="demo-conjunctiva-hemoglobin",
        title="Demo: haemoglobin from conjunctiva photos (synthetic)",
        design="concurrent",
        seed=seed,
        groups=DEMO_GROUPS,
        task=Task("numeric", "Estimate the haemoglobin (g/dL)", unit="g/dL", min=3.0, max=20.0),
        hanging=HangingProtocol(ROLES, "none"),
        model_spec=f"models/{NAME}/model.toml",
    )


def _soft(inside: np.ndarray, width: float = 1.5) -> np.ndarray:
    """Signed 'inside' distance (pixels) to a soft mask in [0, 1]."""
    return np.clip(inside / width + 0.5, 0.0, 1.0)


def render_photo(seed: int, index: int, hb: float) -> tuple[np.ndarray, tuple[int, int, int, int], dict]:
    """(uint8 photo (256, 256, 3), conjunctiva box (row0, col0, row1, col1), latent) for one subject."""
    rng = rng_for(seed, NAME, "photo", index)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    tone = rng.uniform(0, 1)
    skin = SKIN_LIGHT + tone * (SKIN_DARK - SKIN_LIGHT)
    shade = 1 + 0.06 * smooth_noise(rng, SIZE, 60) - 0.001 * (yy - 128)
    img = skin * shade[..., None] * (1 + 0.02 * gaussian_filter(rng.normal(size=(SIZE, SIZE, 3)), (1.5, 1.5, 0)))

    cx, cy = 128 + rng.normal(0, 10), 88 + rng.normal(0, 8)
    half_w, half_h = rng.uniform(88, 108), rng.uniform(32, 42)
    # Eye opening: an almond between two parabolas; the lower lid is pulled down.
    u = (xx - cx) / half_w
    upper = cy - half_h * (1 - u**2)
    lower_eye = cy + half_h * 0.8 * (1 - u**2)
    eye = _soft(np.minimum(yy - upper, lower_eye - yy)) * (np.abs(u) < 1)
    depth = rng.uniform(34, 50) * (1 - u**2)  # conjunctiva height: how far the lid is pulled
    lower_conj = lower_eye + depth
    conj = _soft(np.minimum(yy - lower_eye, lower_conj - yy)) * (np.abs(u) < 0.97)

    crease = _soft(np.minimum(upper - 4 - yy, yy - (upper - 16)), 3.0) * (np.abs(u) < 1.05)
    img = img * (1 - 0.18 * crease[..., None])
    sclera = np.array([236.0, 232.0, 226.0]) * rng.normal(1, 0.02, 3)
    img = img * (1 - eye[..., None]) + sclera * eye[..., None]
    ir = rng.uniform(26, 32)
    ix, iy = cx + rng.normal(0, 8), cy - rng.uniform(0, 8)
    r = np.hypot(xx - ix, yy - iy)
    iris = _soft(ir - r) * eye
    iris_col = IRIS[int(rng.integers(0, len(IRIS)))] * (1 + 0.15 * np.cos(np.arctan2(yy - iy, xx - ix) * 23))[..., None]
    img = img * (1 - iris[..., None]) + iris_col * iris[..., None]
    pupil = _soft(ir * rng.uniform(0.32, 0.45) - r) * eye
    img = img * (1 - pupil[..., None]) + 12 * pupil[..., None]
    glint = _soft(4 - np.hypot(xx - ix - 8, yy - iy + 8)) * eye
    img = img * (1 - glint[..., None]) + 250 * glint[..., None]

    # Conjunctiva: colour from haemoglobin, deeper (redder) towards the fornix, with vessels.
    level = float(np.clip((hb - HB_MIN) / (HB_MAX - HB_MIN) + rng.normal(0, 0.1), -0.1, 1.1))
    inflamed = bool(rng.random() < 0.08)  # conjunctivitis: red whatever the haemoglobin
    if inflamed:
        level = max(level, rng.uniform(0.6, 1.0))
    base = PALE + level * (RED - PALE)
    towards_fornix = np.clip((yy - lower_eye) / np.maximum(depth, 1), 0, 1)
    vessels = gaussian_filter(rng.normal(size=(SIZE, SIZE)), (0.8, 3.0))
    vessels = np.clip(np.abs(vessels) * 6 - 0.6, 0, 1)
    colour = base * (1 - 0.12 * towards_fornix)[..., None]
    colour = colour * (1 - (0.08 + 0.3 * level) * vessels[..., None] * np.array([0.2, 1.0, 0.9]))
    img = img * (1 - conj[..., None]) + colour * conj[..., None]
    # Lid margin below the conjunctiva, with lashes.
    margin = _soft(np.minimum(yy - lower_conj, lower_conj + 5 - yy)) * (np.abs(u) < 1)
    img = img * (1 - 0.35 * margin[..., None])
    for x0 in rng.uniform(cx - half_w * 0.85, cx + half_w * 0.85, int(rng.integers(14, 28))):
        y0 = float(np.interp(x0, xx[0], lower_conj[0])) + 4
        ang = rng.normal(np.pi / 2, 0.35)
        for t in np.linspace(0, rng.uniform(8, 16), 12):
            py, px = int(y0 + t * np.sin(ang)), int(x0 + t * np.cos(ang))
            if 0 <= py < SIZE and 0 <= px < SIZE:
                img[py, px] = img[py, px] * 0.3 + 15

    # Camera: white balance, exposure, vignetting, sometimes a glare spot, sensor noise.
    wb = rng.uniform(-0.08, 0.08)
    img = img * np.array([1 + wb, 1.0, 1 - wb]) * rng.uniform(0.8, 1.12)
    img *= (1 - 0.25 * (((xx - 128) ** 2 + (yy - 128) ** 2) / 128**2))[..., None]
    if rng.random() < 0.3:
        gx, gy = rng.uniform(40, 216), rng.uniform(60, 200)
        img += 90 * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * rng.uniform(4, 9) ** 2))[..., None]
    img += rng.normal(0, 2.5, img.shape)

    rows, cols = np.nonzero(conj > 0)  # every pixel the haemoglobin colours
    box = (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)
    latent = dict(hb=round(hb, 2), skin_tone=round(tone, 3), white_balance=round(wb, 3), inflamed=int(inflamed))
    return np.clip(img, 0, 255).astype(np.uint8), box, latent


def draw_hb(rng: np.random.Generator, n: int) -> np.ndarray:
    """Haemoglobin values like an anaemia clinic's: many anaemic, some normal, a few high."""
    hb = np.concatenate([rng.normal(9.5, 1.6, n), rng.normal(13.3, 1.4, n)])
    rng.shuffle(hb)
    return np.round(np.clip(hb[:n], HB_MIN, HB_MAX), 1)


def build_conjunctiva(study_dir: Path, seed: int = DEFAULT_SEED, n: int | None = None) -> Path:
    n = DEFAULT_N if n is None else n
    study_dir = prepare_study_dir(Path(study_dir))
    (study_dir / "media").mkdir()
    rng = rng_for(seed, NAME)
    hbs = draw_hb(rng, n)
    codes = case_codes(rng, n)
    patients = case_codes(rng, n, prefix="P")
    cases, lesions, latents = [], [], []
    for i in range(n):
        img, box, latent = render_photo(seed, i, float(hbs[i]))
        rel = f"media/{codes[i]}.png"
        Image.fromarray(img).save(study_dir / rel, compress_level=3)
        cases.append(dict(case_id=codes[i], truth=f"{hbs[i]:.1f}", patient_id=patients[i], photo=rel))
        lesions.append(
            dict(case_id=codes[i], role="photo", frame=0, row0=box[0], col0=box[1], row1=box[2], col1=box[3])
        )
        latents.append(dict(case_id=codes[i], **latent))
    write_protocol(study_dir, protocol(seed))
    write_cases(study_dir, ROLES, cases)
    write_csv(
        study_dir / "lesions.csv",
        ["case_id", "role", "frame", "row0", "col0", "row1", "col1"],
        sorted(lesions, key=lambda r: r["case_id"]),
    )
    write_csv(study_dir / "latent.csv", list(latents[0]), sorted(latents, key=lambda r: r["case_id"]))
    write_demo_json(
        study_dir,
        NAME,
        seed,
        n,
        unit="g/dL",
        files={
            "lesions.csv": "box of the lower palpebral conjunctiva (rows/cols end exclusive)",
            "latent.csv": "generating parameters per case",
        },
    )
    return study_dir
