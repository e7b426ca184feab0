"""Seeded synthetic reader studies with given per-reader sensitivity and specificity.

Latent model (an equal-variance binormal model per reader): for case c and
reader j in modality m the latent score is y = μ + N, with
μ = Φ⁻¹(sens) for positive cases and μ = -Φ⁻¹(spec) for negative ones, and
N ~ N(0, 1).  The decision is ``y > 0``, so P(positive | diseased) = sens and
P(negative | healthy) = spec exactly in expectation.  Correlation: N shares a
case effect z_c with weight √ρ (readers find the same cases hard).  The AI
has its own latent score; an aided read leans on it with weight ``ai_weight``
(which is what makes readers follow the AI, right or wrong) and keeps part of
the same reader's unaided noise.  Every noise is rescaled to unit variance so
the marginal rates stay at their targets.  Ratings are confidences
0-100 = round(100·Φ(y)); seconds are log-normal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class ReaderSpec:
    reader: str
    group: str
    sensitivity: dict[str, float]  # modality -> target
    specificity: dict[str, float]


@dataclass(frozen=True)
class SimulationSpec:
    readers: tuple[ReaderSpec, ...]
    n_positive: int
    n_negative: int
    modalities: tuple[str, ...] = ("unaided", "aided")
    correlation: float = 0.3  # ρ: shared case effect between readers (and the AI)
    ai_sensitivity: float | None = None
    ai_specificity: float | None = None
    ai_weight: float = 0.5  # how much an aided read's noise comes from the AI's
    session_noise: float = 0.5  # fresh noise between a reader's two reads
    seconds: dict[str, float] = field(default_factory=lambda: {"unaided": 45.0, "aided": 38.0})


def _spread(mean: float, n: int, width: float) -> list[float]:
    """n values centred exactly on ``mean`` spaced by ``width`` (reader-to-reader variation)."""
    offsets = (np.arange(n) - (n - 1) / 2) * width
    return [float(np.clip(mean + o, 0.01, 0.99)) for o in offsets]


def uterine_sarcoma() -> SimulationSpec:
    """Study 1 of /work/shared/DESIGN.md: 3 specialists + 3 residents, 63 sarcoma / 200 leiomyoma.

    Published group means (acc / sens / spec, %): specialists unaided
    88.2 / 71.0 / 93.8; residents unaided 80.1 / 47.6 / 91.5; residents with
    AI 92.2 / 87.6 / 93.7; AI alone 88.7 sens / 94.0 spec.  The specialists'
    aided rates are not in the design note; 0.86 / 0.95 is an assumption.
    Each group's readers are spread around the mean (sens ±4 points, spec ±1).
    """
    groups = {
        "specialist": {"unaided": (0.710, 0.938), "aided": (0.860, 0.950)},
        "resident": {"unaided": (0.476, 0.915), "aided": (0.876, 0.937)},
    }
    readers = []
    for g, (prefix, targets) in zip(
        ("specialist", "resident"), (("S", groups["specialist"]), ("R", groups["resident"]))
    ):
        sens = {m: _spread(targets[m][0], 3, 0.04) for m in targets}
        spec = {m: _spread(targets[m][1], 3, 0.01)[::-1] for m in targets}
        for i in range(3):
            readers.append(
                ReaderSpec(
                    reader=f"{prefix}{i + 1}",
                    group=g,
                    sensitivity={m: sens[m][i] for m in targets},
                    specificity={m: spec[m][i] for m in targets},
                )
            )
    return SimulationSpec(
        readers=tuple(readers),
        n_positive=63,
        n_negative=200,
        ai_sensitivity=0.887,
        ai_specificity=0.940,
    )


def generic(
    n_readers: int = 6,
    n_cases: int = 263,
    prevalence: float = 0.24,
    sensitivity: tuple[float, float] = (0.70, 0.85),
    specificity: tuple[float, float] = (0.90, 0.93),
    ai: tuple[float, float] = (0.88, 0.94),
    correlation: float = 0.3,
    groups: tuple[str, ...] = ("specialist", "resident"),
) -> SimulationSpec:
    """A two-modality study: every reader has the given (unaided, aided) sens and spec."""
    n_pos = int(round(n_cases * prevalence))
    readers = tuple(
        ReaderSpec(
            reader=f"R{j + 1}",
            group=groups[j * len(groups) // n_readers] if groups else "",
            sensitivity={"unaided": sensitivity[0], "aided": sensitivity[1]},
            specificity={"unaided": specificity[0], "aided": specificity[1]},
        )
        for j in range(n_readers)
    )
    return SimulationSpec(
        readers=readers,
        n_positive=n_pos,
        n_negative=n_cases - n_pos,
        correlation=correlation,
        ai_sensitivity=ai[0],
        ai_specificity=ai[1],
    )


PRESETS = {"uterine_sarcoma": uterine_sarcoma}


def simulate(spec: SimulationSpec, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Return (reads, ai): a long-format reads table and the AI outputs (or None).

    Same spec and seed give the same tables.  Reads are ordered reader by
    reader, unaided before aided, cases in a fixed order.
    """
    rng = np.random.default_rng(seed)
    n = spec.n_positive + spec.n_negative
    truth = np.r_[np.ones(spec.n_positive, int), np.zeros(spec.n_negative, int)]
    cases = [f"C{c + 1:03d}" for c in range(n)]
    rho = float(np.clip(spec.correlation, 0.0, 0.999))
    z = rng.standard_normal(n)

    def noise() -> np.ndarray:
        return np.sqrt(rho) * z + np.sqrt(1 - rho) * rng.standard_normal(n)

    def mu(sens: float, spec_: float) -> np.ndarray:
        return np.where(truth == 1, stats.norm.ppf(sens), -stats.norm.ppf(spec_))

    ai_noise = noise()
    ai = None
    if spec.ai_sensitivity is not None and spec.ai_specificity is not None:
        y_ai = mu(spec.ai_sensitivity, spec.ai_specificity) + ai_noise
        ai = pd.DataFrame(
            {"case": cases, "ai_rating": np.round(stats.norm.cdf(y_ai), 4), "ai_decision": (y_ai > 0).astype(int)}
        )

    rows = []
    w, g = spec.ai_weight if ai is not None else 0.0, spec.session_noise
    for r in spec.readers:
        first = noise()
        for k, m in enumerate(spec.modalities):
            if k == 0:
                nz = first
            else:
                # Lean on the AI's noise (agreeing with it, right or wrong) and on
                # the reader's own first read; rescale to unit variance.
                cov_ai_first = rho
                var = w**2 + (1 - w) ** 2 + 2 * w * (1 - w) * cov_ai_first + g**2
                nz = (w * ai_noise + (1 - w) * first + g * rng.standard_normal(n)) / np.sqrt(var)
            y = mu(r.sensitivity[m], r.specificity[m]) + nz
            secs = rng.lognormal(np.log(spec.seconds.get(m, 40.0)), 0.35, n)
            rows.append(
                pd.DataFrame(
                    {
                        "reader": r.reader,
                        "modality": m,
                        "case": cases,
                        "truth": truth,
                        "rating": np.clip(np.round(100 * stats.norm.cdf(y)), 0, 100).astype(int),
                        "decision": (y > 0).astype(int),
                        "group": r.group,
                        "seconds": np.round(secs, 1),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True), ai
