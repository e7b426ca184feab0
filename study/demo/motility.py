"""Demo study 3: sperm motility grade distribution from a 1-second video.

Each video (15 frames at 15 fps, 160x160, H.264 in MP4) shows sperm: bright
heads with a beating tail on a grey phase-contrast background with static
debris.  A latent motility score per video sets the mix of rapid progressive,
slow progressive, non-progressive and immotile cells: speed and straightness
fall from grade A to E.  40 simulated raters each perceive the score with
their own bias and noise and pick a grade; their votes are the truth
distribution ``pA;pB;pC;pD;pE`` in cases.csv, as in the source paper.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from study.demo.common import (
    DEFAULT_SEED,
    DEMO_GROUPS,
    case_codes,
    prepare_study_dir,
    rng_for,
    write_cases,
    write_csv,
    write_demo_json,
    write_protocol,
)
from study.protocol import HangingProtocol, Protocol, Task

NAME = "motility"
GRADES = ("A", "B", "C", "D", "E")
ROLES = ("video",)
SIZE = 160
FRAMES = 15
FPS = 15
N_RATERS = 40
DEFAULT_N = 150


def protocol(seed: int) -> Protocol:
    return Protocol(
        study_id="demo-sperm-motility",
        title="Demo: sperm motility grade distribution from video (synthetic)",
        design="crossover",
        washout_days=0,
        seed=seed,
        groups=DEMO_GROUPS,
        task=Task("grade_distribution", "How would you grade motility (A best, E worst)?", grades=GRADES),
        hanging=HangingProtocol(ROLES, "none"),
        model_spec=f"models/{NAME}/model.toml",
    )


def _sprite(frame: np.ndarray, y: float, x: float, angle: float, sy: float, sx: float, amp: float) -> None:
    """Add an oriented Gaussian blob (sx along the direction of travel)."""
    r = int(np.ceil(3 * max(sy, sx)))
    iy, ix = int(round(y)), int(round(x))
    y0, y1, x0, x1 = max(iy - r, 0), min(iy + r + 1, SIZE), max(ix - r, 0), min(ix + r + 1, SIZE)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dy, dx = yy - y, xx - x
    c, s = np.cos(angle), np.sin(angle)
    along, across = dx * c + dy * s, -dx * s + dy * c
    frame[y0:y1, x0:x1] += amp * np.exp(-0.5 * ((along / sx) ** 2 + (across / sy) ** 2))


def _tracks(rng: np.random.Generator, score: float, n: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Head positions (n, FRAMES, 2) and headings (n, FRAMES) for a latent score in [0, 4] (0 = A)."""
    vigour = np.clip(rng.normal(1 - score / 4, 0.22, n), 0, 1)  # per-cell motility
    immotile = vigour < 0.18
    speed = np.where(immotile, 0.0, 0.6 + 6.5 * vigour**1.6)  # px per frame
    straight = np.clip(1.25 * vigour - 0.15 + rng.normal(0, 0.1, n), 0, 1)
    turn = (1 - straight) * 0.9  # heading noise, rad per frame
    curl = rng.normal(0, 1, n) * (1 - straight) * 0.5  # circling of non-progressive cells
    pos = np.empty((n, FRAMES, 2))
    heading = np.empty((n, FRAMES))
    pos[:, 0] = rng.uniform(-10, SIZE + 10, (n, 2))
    heading[:, 0] = rng.uniform(0, 2 * np.pi, n)
    for t in range(1, FRAMES):
        heading[:, t] = heading[:, t - 1] + curl + rng.normal(0, 1, n) * turn
        step = speed[:, None] * np.stack([np.sin(heading[:, t]), np.cos(heading[:, t])], axis=1)
        jitter = rng.normal(0, 0.25, (n, 2))  # Brownian motion: immotile cells still tremble
        pos[:, t] = pos[:, t - 1] + step + jitter
    stats = dict(
        n_sperm=n,
        motile_fraction=round(float((~immotile).mean()), 3),
        mean_speed_px_s=round(float(speed.mean() * FPS), 2),
        mean_straightness=round(float(straight[~immotile].mean()) if (~immotile).any() else 0.0, 3),
    )
    return pos, heading, stats


MOVING_MIN_PX = 7.0  # head path length over the clip; immotile cells only tremble (~4 px of Brownian path)


def moving_mask(pos: np.ndarray, heading: np.ndarray, head_r: float = 5.0, tail_r: float = 3.0) -> np.ndarray:
    """(SIZE, SIZE) bool: the pixels a moving cell's body (head and tail) covers in any frame.

    ``pos``: (n, FRAMES, 2) head positions (rows, cols); ``heading``: (n, FRAMES)
    in rad.  The head is a disc of ``head_r`` px, the tail four discs of
    ``tail_r`` px behind it (where ``render_video`` draws them).  Immotile cells
    (head path under MOVING_MIN_PX: only Brownian trembling) are left out; this
    is the region a motility CAM should cover (CAM mass on the moving cells).
    """
    path = np.linalg.norm(np.diff(pos, axis=1), axis=2).sum(1)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    mask = np.zeros((SIZE, SIZE), bool)
    for track, angles in zip(pos[path > MOVING_MIN_PX], heading[path > MOVING_MIN_PX]):
        for (y, x), a in zip(track, angles):
            forward = np.array([np.sin(a), np.cos(a)])
            points = [((y, x), head_r)] + [
                (tuple(np.array([y, x]) - forward * (3.2 * k + 1)), tail_r) for k in range(1, 5)
            ]
            for (py, px), r in points:
                if -r <= py < SIZE + r and -r <= px < SIZE + r:
                    mask |= (yy - py) ** 2 + (xx - px) ** 2 <= r**2
    return mask


def _schedule(seed: int, n: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Latent scores, case codes and patient codes of a study (the build's order)."""
    rng = rng_for(seed, NAME)
    # Scores cover all grades evenly (stratified), in random order.
    scores = (np.arange(n) + rng.uniform(0, 1, n)) / n * 4.8 - 0.4
    rng.shuffle(scores)
    codes = case_codes(rng, n)
    return scores, codes, case_codes(rng, n, prefix="P")


def write_moving_cells(study_dir: Path, seed: int, n: int) -> Path:
    """``moving_cells.npz``: per case code, np.packbits of its ``moving_mask`` (replays the tracks only)."""
    scores, codes, _ = _schedule(seed, n)
    masks = {}
    for i in range(n):
        rng = rng_for(seed, NAME, "video", i)  # the same draws as render_video, up to the tracks
        pos, heading, _ = _tracks(rng, float(scores[i]), int(rng.integers(14, 32)))
        masks[codes[i]] = np.packbits(moving_mask(pos, heading))
    path = Path(study_dir) / "moving_cells.npz"
    np.savez_compressed(path, **masks)
    return path


def render_video(seed: int, index: int, score: float) -> tuple[np.ndarray, dict]:
    """(uint8 frames (FRAMES, SIZE, SIZE), track statistics) for one video."""
    rng = rng_for(seed, NAME, "video", index)
    n = int(rng.integers(14, 32))
    pos, heading, stats = _tracks(rng, score, n)
    background = np.full((SIZE, SIZE), rng.uniform(85, 110))
    for _ in range(int(rng.integers(5, 20))):  # static debris
        _sprite(
            background, *rng.uniform(0, SIZE, 2), rng.uniform(0, np.pi), *rng.uniform(0.8, 2.5, 2), rng.uniform(-25, 30)
        )
    phase = rng.uniform(0, 2 * np.pi, n)
    frames = np.empty((FRAMES, SIZE, SIZE), np.uint8)
    for t in range(FRAMES):
        f = background.copy()
        for i in range(n):
            (y, x), a = pos[i, t], heading[i, t]
            forward = np.array([np.sin(a), np.cos(a)])
            side = np.array([np.cos(a), -np.sin(a)])
            # Tail: fainter blobs behind the head, beating sideways.
            for k in range(1, 5):
                wag = 1.6 * np.sin(phase[i] + 1.9 * t + 0.9 * k) * k / 4
                ty, tx = np.array([y, x]) - forward * (3.2 * k + 1) + side * wag
                _sprite(f, ty, tx, a, 0.8, 1.6, 38 - 6 * k)
            _sprite(f, y, x, a, 1.6, 2.4, 120)
        f += rng.normal(0, 4.0, f.shape)
        frames[t] = np.clip(f, 0, 255).astype(np.uint8)
    return frames, stats


def write_mp4(path: Path, frames: np.ndarray) -> None:
    """Encode grayscale frames as H.264 (MPEG-4 part 2 if no H.264 encoder) at FPS."""
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = SIZE, SIZE, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        # One thread and a constant quantizer: the same frames give the same bytes
        # (x264's CRF rate control varied from run to run).
        stream.codec_context.thread_count = 1
        stream.options = {"qp": "20", "preset": "veryfast", "threads": "1"} if codec == "libx264" else {"qscale": "3"}
        container.metadata.clear()
        for t, gray in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.repeat(gray[..., None], 3, axis=2), format="rgb24")
            frame.pts = t
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def rater_votes(rng: np.random.Generator, score: float, n_raters: int = N_RATERS) -> np.ndarray:
    """Vote counts per grade: each rater sees the score through their own bias and noise."""
    bias = rng.normal(0, 0.3, n_raters)
    seen = score + bias + rng.normal(0, 0.45, n_raters)
    picks = np.clip(np.rint(seen), 0, len(GRADES) - 1).astype(int)
    return np.bincount(picks, minlength=len(GRADES))


def build_motility(study_dir: Path, seed: int = DEFAULT_SEED, n: int | None = None) -> Path:
    n = DEFAULT_N if n is None else n
    study_dir = prepare_study_dir(Path(study_dir))
    (study_dir / "media").mkdir()
    scores, codes, patients = _schedule(seed, n)
    cases, latents = [], []
    for i in range(n):
        score = float(scores[i])
        frames, stats = render_video(seed, i, score)
        rel = f"media/{codes[i]}.mp4"
        write_mp4(study_dir / rel, frames)
        votes = rater_votes(rng_for(seed, NAME, "raters", i), score)
        truth = ";".join(f"{v / N_RATERS:.3f}" for v in votes)
        cases.append(dict(case_id=codes[i], truth=truth, patient_id=patients[i], video=rel))
        latents.append(
            dict(
                case_id=codes[i],
                score=round(score, 4),
                grade=GRADES[int(np.clip(round(score), 0, 4))],
                votes=";".join(map(str, votes)),
                **stats,
            )
        )
    write_protocol(study_dir, protocol(seed))
    write_cases(study_dir, ROLES, cases)
    write_csv(study_dir / "latent.csv", list(latents[0]), sorted(latents, key=lambda r: r["case_id"]))
    write_moving_cells(study_dir, seed, n)
    write_demo_json(
        study_dir,
        NAME,
        seed,
        n,
        raters=N_RATERS,
        fps=FPS,
        frames=FRAMES,
        files={
            "latent.csv": "latent score (0 = A .. 4 = E), true grade, rater votes, track statistics",
            "moving_cells.npz": "per case_id: np.packbits of the (SIZE, SIZE) mask of the pixels a moving cell's "
            "head or tail covers in any frame",
        },
    )
    return study_dir
