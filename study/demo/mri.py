"""Demo study 1: uterine sarcoma vs leiomyoma on pelvic MRI.

Per patient three DICOM series of an analytic phantom (T2 axial, T2 sagittal,
DWI b=1000) sharing one FrameOfReferenceUID.  Sarcomas tend to be large,
heterogeneous, intermediate-to-bright on T2 with necrosis/haemorrhage foci, an
irregular infiltrative margin and restricted diffusion (bright DWI); myomas tend
to be well circumscribed, homogeneous and T2-dark without restriction.  Each
feature is drawn from overlapping class distributions, and some myomas are
"degenerated/cellular" and some sarcomas "low-grade", so no single feature is
decisive.

Besides study.toml and cases.csv the folder holds ``lesions.csv`` (per slice
bounding box of the mass, in pixel coordinates of that series, for checking
that a CAM points at the lesion) and ``latent.csv`` (the generating parameters).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from study.demo.common import (
    DEFAULT_SEED,
    DEMO_GROUPS,
    rng_for,
)
from study.demo.dicom_writer import SeriesGeometry, SeriesInfo
from study.demo.phantom import HEMORRHAGE, NECROSIS, Ellipsoid, Mass, Pelvis, Texture, rot_x
from study.protocol import HangingProtocol, Protocol, Task

NAME = "mri"
ROLES = ("T2axi", "T2sag", "DWI")
DEFAULT_N = 120
SARCOMA_FRACTION = 0.25
T2_SCALE, DWI_SCALE = 2000.0, 1400.0  # relative intensity -> modality units
T2_NOISE, DWI_NOISE = 0.018, 0.035  # Rician noise, relative (DWI has low SNR)
AXIAL = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))  # rows run left, columns run posterior
SAGITTAL = ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0))  # rows run posterior, columns run inferior


def protocol(seed: int) -> Protocol:
    return Protocol(
        study_id="demo-uterine-sarcoma",
        title="Demo: uterine sarcoma vs leiomyoma on MRI (synthetic)",
        design="sequential",
        washout_days=28,
        seed=seed,
        groups=DEMO_GROUPS,
        task=Task("binary", "Is the uterine mass a sarcoma?", labels=("leiomyoma", "sarcoma"), confidence="0-100"),
        hanging=HangingProtocol(ROLES, "position"),
        model_spec=f"models/{NAME}/model.toml",
    )


def _mass(rng: np.random.Generator, sarcoma: bool, center: np.ndarray) -> tuple[Mass, dict]:
    """Draw a mass; returns it and its latent features (for latent.csv)."""
    atypical = rng.random() < 0.2  # degenerated/cellular myoma or low-grade sarcoma: pulled to the other class
    s = float(sarcoma) if not atypical else (0.45 if sarcoma else 0.4)
    r0 = rng.uniform(15, 27) + 10 * s * rng.random()
    radii = r0 * np.clip(1 + rng.normal(0, 0.1, 3), 0.8, 1.25)
    irregular = float(np.clip(rng.normal(0.03 + 0.14 * s, 0.05), 0.0, 0.35))
    k = 7
    dirs = rng.normal(size=(k, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    amp = irregular * rng.uniform(-0.4, 1.0, k)
    width = rng.uniform(3, 12, k)
    margin = float(np.exp(rng.normal(np.log(0.9 + 2.4 * s), 0.35)))
    spic = float(np.clip(rng.normal(0.2 + 2.0 * s, 0.6), 0, 4))
    t2 = float(np.clip(rng.normal(0.22 + 0.30 * s, 0.08), 0.08, 0.85))
    het = float(np.clip(rng.normal(0.04 + 0.10 * s, 0.05), 0.0, 0.3))
    dwi = float(np.clip(rng.normal(0.20 + 0.30 * s, 0.12), 0.06, 1.0))
    n_foci = int(rng.poisson(0.25 + 2.0 * s))
    foci = []
    for _ in range(n_foci):
        offset = rng.normal(size=3)
        offset = offset / np.linalg.norm(offset) * rng.uniform(0, 0.55) * radii
        fr = rng.uniform(0.12, 0.3) * r0 * np.clip(1 + rng.normal(0, 0.2, 3), 0.6, 1.5)
        kind = NECROSIS if rng.random() < 0.65 else HEMORRHAGE
        foci.append((Ellipsoid(center + offset, fr, edge_mm=1.5), kind))
    mass = Mass(
        center=center,
        radii=radii,
        lobe_dirs=dirs,
        lobe_amp=amp,
        lobe_width=width,
        margin_mm=margin,
        spiculation=spic,
        t2=t2,
        dwi=dwi,
        heterogeneity=het,
        foci=foci,
        coarse=Texture(rng, length_mm=rng.uniform(3.5, 6.0)),
        fine=Texture(rng, length_mm=2.5),
    )
    latent = dict(
        atypical=int(atypical),
        radius_mm=round(r0, 2),
        irregularity=round(irregular, 4),
        margin_mm=round(margin, 3),
        spiculation_mm=round(spic, 3),
        t2=round(t2, 4),
        heterogeneity=round(het, 4),
        dwi=round(dwi, 4),
        n_foci=n_foci,
    )
    return mass, latent


def _pelvis(rng: np.random.Generator, sarcoma: bool) -> tuple[Pelvis, dict]:
    body_r = np.array([rng.uniform(150, 180), rng.uniform(105, 130), 600.0])
    fat = rng.uniform(12, 35)
    body = Ellipsoid(np.zeros(3), body_r, edge_mm=1.5)
    muscle = Ellipsoid(np.zeros(3), body_r - np.array([fat, fat, 0]), edge_mm=2.0)
    bones = []
    for side in (-1, 1):
        bones.append(Ellipsoid(np.array([side * (body_r[0] - fat - 45), 15.0, -75.0]), np.full(3, 22.0), edge_mm=1.5))
        bones.append(
            Ellipsoid(
                np.array([side * (body_r[0] - fat - 30), 25.0, 45.0]),
                np.array([14.0, 45.0, 60.0]),
                rot_x(-20),
                edge_mm=1.5,
            )
        )
    fill = rng.uniform(0.55, 1.15)
    bladder = Ellipsoid(
        np.array([0.0, -50.0 + rng.normal(0, 5), -40.0]), np.array([48.0, 35.0, 32.0]) * fill, edge_mm=1.2
    )
    rectum = Ellipsoid(np.array([rng.normal(0, 4), 62.0, -15.0]), np.array([17.0, 15.0, 70.0]), rot_x(15), edge_mm=1.5)
    tilt = rng.normal(-35, 12)  # anteverted: the fundus leans anteriorly over the bladder
    rot = rot_x(tilt)
    u_center = np.array([rng.normal(0, 5), rng.normal(5, 5), rng.normal(18, 6)])
    # The mass sits in the myometrium, off the endometrial stripe.
    local = np.array([rng.uniform(-18, 18), rng.uniform(-12, 12), rng.uniform(-20, 20)])
    m_center = u_center + rot @ local
    mass, latent = _mass(rng, sarcoma, m_center)
    extent = np.abs(local) + mass.radii.max() * 1.15 + 6
    u_radii = np.maximum(np.array([rng.uniform(38, 48), rng.uniform(28, 36), rng.uniform(55, 70)]), extent)
    uterus = Ellipsoid(u_center, u_radii, rot, edge_mm=1.5)
    endo = Ellipsoid(u_center, np.array([9.0, rng.uniform(3, 6), u_radii[2] * 0.6]), rot, edge_mm=1.0)
    bias = rng.normal(0, 0.0008, 3)
    pelvis = Pelvis(body, muscle, bones, bladder, rectum, uterus, endo, mass, bias)
    latent |= dict(
        mass_x=round(float(m_center[0]), 2), mass_y=round(float(m_center[1]), 2), mass_z=round(float(m_center[2]), 2)
    )
    return pelvis, latent


def _geometries(rng: np.random.Generator, mass_center: np.ndarray) -> dict[str, SeriesGeometry]:
    zc = float(mass_center[2] + rng.uniform(-8, 8))
    xc = float(mass_center[0] + rng.uniform(-6, 6))
    return {
        "T2axi": SeriesGeometry(128, 128, 2.5, 5.0, 5.5, 16, *AXIAL, (0.0, 0.0, zc)),
        "T2sag": SeriesGeometry(128, 128, 2.5, 5.0, 5.5, 16, *SAGITTAL, (xc, 0.0, zc)),
        # DWI: coarser matrix and different slice positions, so viewports must sync by position.
        "DWI": SeriesGeometry(96, 96, 3.375, 5.0, 6.0, 16, *AXIAL, (0.0, 0.0, zc + 2.0)),
    }


SERIES_INFO = {
    "T2axi": SeriesInfo("T2 TSE AX", 3, "SE", 95.0, 4200.0),
    "T2sag": SeriesInfo("T2 TSE SAG", 2, "SE", 95.0, 3800.0),
    "DWI": SeriesInfo("DWI b1000 AX", 5, "EP", 72.0, 5200.0, rescale_slope=0.5, b_value=1000.0),
}


def _rician(rng: np.random.Generator, signal: np.ndarray, sigma: float) -> np.ndarray:
    noise = rng.standard_normal((2, *signal.shape), dtype=np.float32) * np.float32(sigma)
    return np.hypot(signal + noise[0], noise[1])


def render_series(
    pelvis: Pelvis, geom: SeriesGeometry, role: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(pixels in modality units (n, rows, cols), mass membership (n, rows, cols))."""
    # Slice by slice, so organs a slice misses are skipped wholesale.
    grid = (geom.rows, geom.cols)
    t2, dwi, mass = (
        np.concatenate(parts) for parts in zip(*(pelvis.render(geom.points(k), grid) for k in range(geom.n_slices)))
    )
    shape = (geom.n_slices, geom.rows, geom.cols)
    if role == "DWI":
        img = _rician(rng, dwi, DWI_NOISE) * DWI_SCALE
    else:
        img = _rician(rng, t2, T2_NOISE) * T2_SCALE
    return img.reshape(shape), mass.reshape(shape)


LESION_COLUMNS = ["case_id", "role", "frame", "instance", "row0", "col0", "row1", "col1", "area_px"]


def _boxes(case_id: str, role: str, mass: np.ndarray) -> list[dict]:
    rows = []
    for k, m in enumerate(mass >= 0.5):
        if not m.any():
            continue
        rr, cc = np.nonzero(m)
        rows.append(
            dict(
                case_id=case_id,
                role=role,
                frame=k,
                instance=k + 1,
                row0=int(rr.min()),
                col0=int(cc.min()),
                row1=int(rr.max()) + 1,
                col1=int(cc.max()) + 1,
                area_px=int(m.sum()),
            )
        )
    return rows


def simulate_patient(seed: int, index: int, sarcoma: bool, roles: tuple[str, ...] = ROLES) -> tuple[dict, dict]:
    """Render one patient: ({role: (geometry, pixels, mass membership)}, latent features).

    Pure function of (seed, index, sarcoma); ``roles`` limits the work (tests).
    """
    prng = rng_for(seed, NAME, "patient", index)
    pelvis, latent = _pelvis(prng, sarcoma)
    series = {}
    for role, geom in _geometries(prng, pelvis.mass.center).items():
        if role in roles:
            series[role] = (geom, *render_series(pelvis, geom, role, prng))
    return series, latent


def _patient_tags(seed: int, index: int) -> dict:
    """Synthetic identifying tags.  They never reach readers: the media layer drops them."""
    rng = rng_for(seed, NAME, "tags", index)
    return dict(
        name=f"DEMO^{index + 1:04d}",
        id=f"DEMO{index + 1:04d}",
        birth_date=f"{1950 + int(rng.integers(0, 40))}0101",
        study_date=f"2025{1 + int(rng.integers(0, 12)):02d}{1 + int(rng.integers(0, 28)):02d}",
        study_time=f"{8 + int(rng.integers(0, 10)):02d}{int(rng.integers(0, 60)):02d}00",
        accession=f"DEMO{seed % 10000:04d}{index + 1:04d}",
    )


def _map(fn, jobs: list, workers: int | None = None) -> list:
    """fn over jobs in order, on every core when there is more than one job (the phantom is CPU-bound)."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return [fn(job) for job in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(fn, jobs))


def build_mri(study_dir: Path, seed: int = DEFAULT_SEED, n: int | None = None) -> Path:
    """The MRI demo study, built from its PACS-like export by rules (:func:`study.demo.mri_export.build_mri_study`)."""
    from study.demo.mri_export import build_mri_study  # it imports this module

    return build_mri_study(study_dir, seed, n)
