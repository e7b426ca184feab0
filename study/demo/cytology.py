"""Demo study 2: cervical cytology photos, normal / CIN1 / CIN2+.

Each 256x256 RGB "Pap smear" field shows squamous cells with
Papanicolaou-like colours (pink eosinophilic and blue-green cyanophilic
cytoplasm, blue-purple nuclei).  Abnormal cells grow with grade: CIN1
(LSIL) cells have enlarged, mildly hyperchromatic nuclei, often a koilocytic
perinuclear halo; CIN2+ (HSIL) cells are small with a high nucleus-to-
cytoplasm ratio and dark, irregular, coarse nuclei.  A per-image "atypia"
level drawn around the grade makes borderline fields, and normal fields can
hold a reactive cell, so classes overlap.  ``lesions.csv`` boxes the abnormal
cells (for CAM checks).
"""

from __future__ import annotations

from dataclasses import dataclass
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
    write_cases,
    write_csv,
    write_demo_json,
    write_protocol,
)
from study.demo.specimens import plan_specimens
from study.protocol import HangingProtocol, Protocol, Task
from study.specimen import worst_class

NAME = "cytology"
LABELS = ("normal", "CIN1", "CIN2+")
FRACTIONS = (0.4, 0.3, 0.3)
ROLES = ("photo",)
SIZE = 256
DEFAULT_N = 90  # specimens (about 315 fields)

BACKGROUND = np.array([236.0, 228.0, 234.0])
CYANOPHILIC = np.array([118.0, 176.0, 190.0])
EOSINOPHILIC = np.array([232.0, 148.0, 170.0])
NUCLEUS_PALE = np.array([120.0, 100.0, 160.0])  # vesicular chromatin
NUCLEUS_DARK = np.array([40.0, 22.0, 70.0])  # hyperchromatic


def protocol(seed: int) -> Protocol:
    return Protocol(
        study_id="demo-cervical-cytology",
        title="Demo: cervical cytology triage, normal / CIN1 / CIN2+ (synthetic)",
        design="concurrent",
        seed=seed,
        groups=DEMO_GROUPS,
        mode="triage",
        task=Task("multiclass", "What is the most severe finding on this slide?", labels=LABELS, positive=("CIN2+",)),
        hanging=HangingProtocol(ROLES, "none"),
        model_spec=f"models/{NAME}/model.toml",
    )


@dataclass
class Cell:
    cy: float
    cx: float
    radius: float  # cytoplasm
    shape: np.ndarray  # (K, 2) harmonic amplitude, phase of the outline
    color: np.ndarray
    n_radius: float  # nucleus
    n_shape: np.ndarray
    darkness: float  # 0 vesicular .. 1 hyperchromatic
    coarse: float  # chromatin granularity
    halo: float  # koilocytic perinuclear clearing, 0..1
    binucleate: bool
    abnormal: bool


def _outline(rng: np.random.Generator, irregularity: float, k: int = 5) -> np.ndarray:
    amp = irregularity * rng.uniform(0.3, 1.0, k) / np.arange(1, k + 1) ** 0.5
    return np.stack([amp, rng.uniform(0, 2 * np.pi, k)], axis=1)


def _radius(shape: np.ndarray, theta: np.ndarray) -> np.ndarray:
    k = np.arange(2, 2 + len(shape))[:, None, None]
    return 1.0 + (shape[:, 0, None, None] * np.cos(k * theta + shape[:, 1, None, None])).sum(axis=0)


def _cell(rng: np.random.Generator, kind: str, atypia: float, cy: float, cx: float) -> Cell:
    """kind: normal | lsil | hsil; atypia (about 0..2.5) scales the abnormal features."""
    color = CYANOPHILIC if rng.random() < 0.6 else EOSINOPHILIC
    color = color * rng.normal(1, 0.04, 3)
    a = float(np.clip(atypia, 0.0, 2.8))
    if kind == "normal":
        return Cell(
            cy,
            cx,
            rng.uniform(20, 30),
            _outline(rng, 0.16),
            color,
            rng.uniform(2.8, 4.2),
            _outline(rng, 0.03),
            rng.uniform(0.2, 0.75),
            rng.uniform(0.0, 0.1),
            0.0,
            False,
            False,
        )
    if kind == "lsil":
        return Cell(
            cy,
            cx,
            rng.uniform(19, 28),
            _outline(rng, 0.16),
            color,
            rng.uniform(4.5, 6.5) + 1.2 * a,
            _outline(rng, 0.04 + 0.05 * a),
            float(np.clip(0.35 + 0.22 * a + rng.normal(0, 0.1), 0, 1)),
            0.1 + 0.1 * a,
            float(rng.uniform(0.5, 1.0) if rng.random() < 0.7 else 0.0),
            bool(rng.random() < 0.2),
            True,
        )
    return Cell(
        cy,
        cx,
        rng.uniform(12, 18),
        _outline(rng, 0.12),
        CYANOPHILIC * rng.normal(0.95, 0.04, 3),
        rng.uniform(5.0, 7.0) + 1.4 * max(a - 1, 0),
        _outline(rng, 0.04 + 0.035 * a),
        float(np.clip(0.45 + 0.22 * a + rng.normal(0, 0.1), 0, 1)),
        0.15 + 0.12 * a,
        0.0,
        False,
        True,
    )


def _blend(img: np.ndarray, mask: np.ndarray, color, y0: int, x0: int) -> None:
    h, w = mask.shape
    region = img[y0 : y0 + h, x0 : x0 + w]
    region *= 1 - mask[..., None]
    region += mask[..., None] * color


def _draw(img: np.ndarray, cell: Cell, grain: np.ndarray, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """Paint a cell; returns its bounding box (row0, col0, row1, col1)."""
    reach = int(np.ceil(cell.radius * 1.5)) + 2
    y0, x0 = max(int(cell.cy) - reach, 0), max(int(cell.cx) - reach, 0)
    y1, x1 = min(int(cell.cy) + reach + 1, SIZE), min(int(cell.cx) + reach + 1, SIZE)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dy, dx = yy - cell.cy, xx - cell.cx
    rho, theta = np.hypot(dy, dx), np.arctan2(dy, dx)
    # Cytoplasm: translucent, so overlapping cells darken each other as on a smear.
    edge = np.clip((cell.radius * _radius(cell.shape, theta) - rho) / 1.2 + 0.5, 0, 1)
    cyto = cell.color * (1 + 0.06 * grain[y0:y1, x0:x1, None])
    _blend(img, 0.62 * edge, cyto, y0, x0)
    centres = [(0.0, 0.0)]
    if cell.binucleate:
        off = cell.n_radius * 1.05
        ang = rng.uniform(0, np.pi)
        centres = [(off * np.sin(ang), off * np.cos(ang)), (-off * np.sin(ang), -off * np.cos(ang))]
    for oy, ox in centres:
        ny, nx = dy - oy, dx - ox
        nrho, ntheta = np.hypot(ny, nx), np.arctan2(ny, nx)
        nr = cell.n_radius * _radius(cell.n_shape, ntheta)
        if cell.halo > 0:
            halo = np.clip((nr * 2.1 - nrho) / 2.0 + 0.5, 0, 1) * edge
            _blend(img, 0.55 * cell.halo * halo, BACKGROUND, y0, x0)
        nucleus = np.clip((nr - nrho) / 0.8 + 0.5, 0, 1)
        colour = NUCLEUS_PALE + cell.darkness * (NUCLEUS_DARK - NUCLEUS_PALE)
        chromatin = 1 + cell.coarse * grain[y0:y1, x0:x1, None]
        _blend(img, 0.92 * nucleus, colour * chromatin, y0, x0)
    return y0, x0, y1, x1


def render_field(seed: int, index: int, grade: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]], dict]:
    """(uint8 image (256, 256, 3), boxes of abnormal cells, latent) for one field."""
    rng = rng_for(seed, NAME, "field", index)
    atypia = float(np.clip(rng.normal(grade, 0.45), -0.5, 2.8))
    img = np.empty((SIZE, SIZE, 3), np.float32)
    img[:] = BACKGROUND * rng.normal(1, 0.015, 3)
    # Smear mottling, and a fine grain field reused for cytoplasm and chromatin texture.
    img *= (1 + 0.015 * smooth_noise(rng, SIZE, 24))[..., None]
    grain = gaussian_filter(rng.normal(size=(SIZE, SIZE)).astype(np.float32), 0.8) * 2.2
    n_cells = int(rng.integers(7, 14))
    if grade == 0:
        n_abnormal = int(rng.random() < 0.25)  # a reactive cell with a slightly large nucleus
        kinds = ["lsil"] * n_abnormal
        atypia = min(atypia, 0.3)
    elif grade == 1:
        n_abnormal = int(rng.integers(2, 6))
        kinds = ["lsil"] * n_abnormal
    else:
        n_abnormal = int(rng.integers(2, 6))
        kinds = ["hsil" if rng.random() < 0.75 else "lsil" for _ in range(n_abnormal)]
    kinds = ["normal"] * (n_cells - n_abnormal) + kinds
    boxes = []
    for kind in kinds:
        cy, cx = rng.uniform(16, SIZE - 16, 2)
        cell = _cell(rng, kind, atypia, cy, cx)
        box = _draw(img, cell, grain, rng)
        if cell.abnormal:
            boxes.append(box)
    # Neutrophils: small, dark, lobed; present at every grade, so "dark pixels" alone is not a diagnosis.
    for _ in range(int(rng.integers(0, 9))):
        cy, cx = rng.uniform(6, SIZE - 6, 2)
        pmn = Cell(
            cy,
            cx,
            4.5,
            _outline(rng, 0.1),
            EOSINOPHILIC * 0.9,
            rng.uniform(1.8, 2.6),
            _outline(rng, 0.35),
            rng.uniform(0.7, 1.0),
            0.1,
            0.0,
            bool(rng.random() < 0.5),
            False,
        )
        _draw(img, pmn, grain, rng)
    stain = rng.normal(1, 0.035, 3)  # batch-to-batch stain and white-balance variation
    img = gaussian_filter(img * stain, sigma=(0.7, 0.7, 0)) + rng.normal(0, 2.0, img.shape)
    latent = dict(label=LABELS[grade], atypia=round(atypia, 3), n_cells=n_cells, n_abnormal=n_abnormal)
    return np.clip(img, 0, 255).astype(np.uint8), boxes, latent


def build_cytology(study_dir: Path, seed: int = DEFAULT_SEED, n: int | None = None, slides: int | None = None) -> Path:
    """``n`` specimens (slides) of 2-5 fields each (``study.demo.specimens``): a specimen's
    class is its worst field.  cases.csv lists each specimen's field photos separated by
    ``;``; ``fields.csv`` gives every field with its own class (for training), and
    ``lesions.csv`` / ``latent.csv`` are keyed by field id (``<specimen>-<k>``).

    ``slides`` whole-slide specimens (``study.demo.wsi``: tiled JPEG pyramids, at most 2;
    default 2 in the full demo, none in a small build) are added as cases of their own,
    class CIN2+ (their suspicious regions are HSIL-like), with their truth boxes in
    ``media/slides/wsi_regions.csv``: the reviewer pans and zooms them with the AI's
    tile heatmap.  They are not in ``fields.csv``: the model is not trained on them."""
    slides = (2 if n is None else 0) if slides is None else slides
    n = DEFAULT_N if n is None else n
    study_dir = prepare_study_dir(Path(study_dir))
    (study_dir / "media").mkdir()
    rng = rng_for(seed, NAME)
    grades = exact_labels(rng, n, FRACTIONS)
    codes = case_codes(rng, n)
    patients = case_codes(rng, n, prefix="P")
    plans = plan_specimens(rng_for(seed, NAME, "specimens"), grades)
    cases, fields, lesions, latents = [], [], [], []
    index = 0  # global field number: each field's pixels are keyed by it
    for i, plan in enumerate(plans):
        (study_dir / "media" / codes[i]).mkdir()
        rels = []
        for k, grade in enumerate(plan.field_grades):
            img, boxes, latent = render_field(seed, index, grade)
            index += 1
            field_id = f"{codes[i]}-{k + 1}"
            rel = f"media/{codes[i]}/{k + 1}.png"
            Image.fromarray(img).save(study_dir / rel, compress_level=3)
            rels.append(rel)
            fields.append(dict(field_id=field_id, specimen_id=codes[i], truth=LABELS[grade], photo=rel))
            lesions += [
                dict(case_id=field_id, role="photo", frame=0, row0=b[0], col0=b[1], row1=b[2], col1=b[3]) for b in boxes
            ]
            latents.append(dict(case_id=field_id, **latent))
        assert worst_class(LABELS, [LABELS[g] for g in plan.field_grades]) == LABELS[grades[i]]
        cases.append(dict(case_id=codes[i], truth=LABELS[grades[i]], patient_id=patients[i], photo=";".join(rels)))
    if slides:
        from study.demo.wsi import write_demo_slides

        written = write_demo_slides(study_dir / "media" / "slides", seed, size=(3072, 2304))[:slides]
        for code, slide in zip(case_codes(rng_for(seed, NAME, "slides"), slides, prefix="W"), written):
            rel = slide.path.relative_to(study_dir).as_posix()
            cases.append(dict(case_id=code, truth=LABELS[-1], patient_id=f"P{code}", photo=rel))
    write_protocol(study_dir, protocol(seed))
    write_cases(study_dir, ROLES, cases)
    write_csv(
        study_dir / "fields.csv",
        ["field_id", "specimen_id", "truth", "photo"],
        sorted(fields, key=lambda r: r["field_id"]),
    )
    write_csv(
        study_dir / "lesions.csv",
        ["case_id", "role", "frame", "row0", "col0", "row1", "col1"],
        sorted(lesions, key=lambda r: (r["case_id"], r["row0"], r["col0"])),
    )
    write_csv(
        study_dir / "latent.csv",
        ["case_id", "label", "atypia", "n_cells", "n_abnormal"],
        sorted(latents, key=lambda r: r["case_id"]),
    )
    write_demo_json(
        study_dir,
        NAME,
        seed,
        n,
        class_fractions=dict(zip(LABELS, FRACTIONS)),
        n_fields=index,
        n_slides=slides,
        files={
            "fields.csv": "every field of view: its specimen, its own class, its photo",
            "lesions.csv": "box of each abnormal cell, by field id (rows/cols end exclusive)",
            "latent.csv": "generating parameters per field",
        },
    )
    return study_dir


def read_fields(study_dir: str | Path) -> list[dict[str, str]]:
    """Rows of ``fields.csv``: field_id, specimen_id, truth (the field's class), photo (relative path)."""
    import csv

    with (Path(study_dir) / "fields.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
