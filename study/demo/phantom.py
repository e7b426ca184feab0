"""An analytic pelvic MRI phantom: body, fat, bones, bladder, rectum, uterus
and a uterine mass, evaluated at arbitrary patient-space points (LPS, mm).

Evaluating the phantom at each pixel's 3-D position (instead of slicing a
voxel volume) makes axial and sagittal series of one patient agree exactly
where they intersect, at no cost in memory.  Intensities are relative (0-1):
T2-weighted and high-b DWI (b=1000, fat-suppressed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# (T2, DWI) relative intensities per tissue; the mass has its own per patient.
AIR = (0.01, 0.01)
FAT = (0.78, 0.05)
MUSCLE = (0.28, 0.08)
MARROW = (0.55, 0.06)
URINE = (0.96, 0.03)
RECTUM = (0.22, 0.15)
MYOMETRIUM = (0.48, 0.17)
ENDOMETRIUM = (0.82, 0.40)
NECROSIS = (0.92, 0.10)  # fluid: bright T2, free diffusion
HEMORRHAGE = (0.70, 0.30)


def rot_x(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


@dataclass
class Ellipsoid:
    center: np.ndarray
    radii: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    edge_mm: float = 1.0  # width of the soft edge (partial volume)

    def membership(self, p: np.ndarray, bounds: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Soft inside-ness in [0, 1] for points (N, 3); bounds: their (min, max) corner."""
        out = np.zeros(len(p), np.float32)
        reach = self.radii.max() + self.edge_mm
        lo, hi = bounds if bounds is not None else (p.min(axis=0), p.max(axis=0))
        if np.any(lo > self.center + reach) or np.any(hi < self.center - reach):
            return out  # the slice misses the organ entirely
        d = p - self.center.astype(np.float32)
        # Most organs cover a small part of the field: evaluate only their bounding box.
        # An axis along which every point is well inside the box needs no test (the
        # body and muscle contain whole slices; a slice is flat along its normal).
        box = None
        for axis in range(3):
            if lo[axis] - 1e-3 <= self.center[axis] - reach or hi[axis] + 1e-3 >= self.center[axis] + reach:
                inside = np.abs(d[:, axis]) < reach
                box = inside if box is None else box & inside
        if box is None or box.all():
            box = slice(None)
        else:
            d = d[box]
        local = d @ self.rotation.astype(np.float32)  # into the ellipsoid's frame
        q = np.sqrt(
            (local[:, 0] / self.radii[0]) ** 2 + (local[:, 1] / self.radii[1]) ** 2 + (local[:, 2] / self.radii[2]) ** 2
        )
        # (1 - q) * mean radius approximates the signed distance to the surface.
        out[box] = np.clip((1.0 - q) * (self.radii.mean() / self.edge_mm) + 0.5, 0.0, 1.0)
        return out


class Texture:
    """A smooth Gaussian random field from random Fourier features, std ~1.

    Cheap to evaluate at scattered points and identical wherever two series
    intersect, unlike per-slice noise.
    """

    def __init__(self, rng: np.random.Generator, length_mm: float, n: int = 48) -> None:
        self.k = rng.normal(0.0, 1.0 / length_mm, size=(n, 3)).astype(np.float32)
        self.phase = rng.uniform(0, 2 * np.pi, size=n).astype(np.float32)
        self.scale = np.sqrt(2.0 / n)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return self.scale * np.cos(p.astype(np.float32) @ self.k.T + self.phase).sum(axis=1)


@dataclass
class Mass:
    center: np.ndarray
    radii: np.ndarray
    lobe_dirs: np.ndarray  # (K, 3) unit vectors
    lobe_amp: np.ndarray  # (K,) relative radius bumps: lobulation / irregular margin
    lobe_width: np.ndarray  # (K,) angular sharpness of each bump
    margin_mm: float  # edge softness: sharp (myoma) .. infiltrative (sarcoma)
    spiculation: float  # boundary jitter in mm driven by a fine texture
    t2: float
    dwi: float
    heterogeneity: float  # texture amplitude (relative intensity)
    foci: list[tuple[Ellipsoid, tuple[float, float]]]
    coarse: Texture
    fine: Texture

    @property
    def bounding_radius(self) -> float:
        return float(self.radii.max() * (1 + self.lobe_amp.clip(0).sum()) + 3 * self.margin_mm + self.spiculation + 2)

    def membership(self, p: np.ndarray) -> np.ndarray:
        v = (p - self.center) / self.radii  # unit sphere frame
        dist = np.linalg.norm(v, axis=1)
        u = v / np.maximum(dist, 1e-6)[:, None]
        bumps = np.exp((u @ self.lobe_dirs.T - 1.0) * self.lobe_width) @ self.lobe_amp
        r_mean = float(self.radii.mean())
        surface = r_mean * (1.0 + bumps) + self.spiculation * self.fine(p)
        return np.clip((surface - dist * r_mean) / self.margin_mm + 0.5, 0.0, 1.0)


@dataclass
class Pelvis:
    body: Ellipsoid
    muscle: Ellipsoid
    bones: list[Ellipsoid]
    bladder: Ellipsoid
    rectum: Ellipsoid
    uterus: Ellipsoid
    endometrium: Ellipsoid
    mass: Mass
    bias: np.ndarray  # linear coil-sensitivity gradient (per mm)

    def render(self, p: np.ndarray, grid: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(T2, DWI, mass membership) at points (N, 3).

        grid: (rows, cols) when the points are a row-major planar grid; its bounding
        box is then read off the four corners instead of a pass over every point.
        """
        p = p.astype(np.float32)
        t2 = np.full(len(p), AIR[0], np.float32)
        dwi = np.full(len(p), AIR[1], np.float32)

        def paint(m: np.ndarray, val: tuple[float, float] | tuple[np.ndarray, np.ndarray]) -> None:
            nonlocal t2, dwi
            if not m.any():
                return
            t2 = t2 * (1 - m) + val[0] * m
            dwi = dwi * (1 - m) + val[1] * m

        corners = p[[0, grid[1] - 1, -grid[1], -1]] if grid is not None else p
        b = (corners.min(axis=0), corners.max(axis=0))
        paint(self.body.membership(p, b), FAT)
        paint(self.muscle.membership(p, b), MUSCLE)
        for bone in self.bones:
            paint(bone.membership(p, b), MARROW)
        paint(self.bladder.membership(p, b), URINE)
        paint(self.rectum.membership(p, b), RECTUM)
        paint(self.uterus.membership(p, b), MYOMETRIUM)
        paint(self.endometrium.membership(p, b), ENDOMETRIUM)

        mass_m = np.zeros(len(p), np.float32)
        c, reach = self.mass.center.astype(np.float32), self.mass.bounding_radius
        if np.any(b[0] > c + reach) or np.any(b[1] < c - reach):
            near = np.zeros(len(p), bool)
        else:
            d = p - c
            near = d[:, 0] ** 2 + d[:, 1] ** 2 + d[:, 2] ** 2 < reach**2
        if near.any():
            q = p[near]
            m = self.mass.membership(q)
            tex = self.mass.coarse(q)
            mt2 = self.mass.t2 + self.mass.heterogeneity * tex
            mdwi = self.mass.dwi * (1 + 0.6 * self.mass.heterogeneity * tex)
            for focus, (ft2, fdwi) in self.mass.foci:
                fm = focus.membership(q)
                mt2 = mt2 * (1 - fm) + ft2 * fm
                mdwi = mdwi * (1 - fm) + fdwi * fm
            sub_t2, sub_dwi = t2[near], dwi[near]
            t2[near] = sub_t2 * (1 - m) + mt2 * m
            dwi[near] = sub_dwi * (1 - m) + mdwi * m
            mass_m[near] = m
        gain = 1.0 + p @ self.bias.astype(np.float32)
        return np.clip(t2 * gain, 0, None), np.clip(dwi * gain, 0, None), mass_m
