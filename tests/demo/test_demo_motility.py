"""The motility demo study: protocol, rater distributions, real MP4 videos, determinism, signal."""

from __future__ import annotations

import av
import numpy as np
import pytest

from study.cases import load_cases
from study.demo.labels import read_latent
from study.demo.motility import FPS, FRAMES, GRADES, N_RATERS, SIZE, build_motility, render_video
from study.media import load
from study.protocol import load_protocol
from tests.demo.helpers import auc, tree_digest


@pytest.fixture(scope="module")
def mot(small_study):
    return small_study("motility")


def test_protocol_is_a_grade_distribution_task(mot):
    p = load_protocol(mot)
    assert (p.task.kind, p.task.grades) == ("grade_distribution", GRADES)
    assert p.hanging.roles == ("video",) and p.model_spec == "models/motility/model.toml"


def test_truth_is_a_distribution_of_40_raters_around_the_true_grade(mot):
    latent = read_latent(mot)
    modes = set()
    for case in load_cases(mot, load_protocol(mot)):
        probs = np.array([float(x) for x in case.truth.split(";")])
        assert len(probs) == 5 and abs(probs.sum() - 1) < 1e-9
        np.testing.assert_allclose(probs * N_RATERS, np.rint(probs * N_RATERS), atol=1e-9)
        true_grade = GRADES.index(latent[case.case_id]["grade"])
        assert abs(int(np.argmax(probs)) - true_grade) <= 1
        assert probs.max() < 1.0 or true_grade in (0, 4)  # raters disagree away from the extremes
        modes.add(int(np.argmax(probs)))
    assert len(modes) >= 4  # scores are stratified over the grades


def test_videos_are_15_frames_at_15_fps(mot):
    for case in load_cases(mot, load_protocol(mot)):
        with av.open(case.media["video"]) as container:
            stream = container.streams.video[0]
            assert stream.average_rate == FPS
            frames = [f.to_ndarray(format="gray") for f in container.decode(stream)]
        assert len(frames) == FRAMES and frames[0].shape == (SIZE, SIZE)
        media = load(case.media["video"])
        assert media.kind == "video" and media.n_frames == FRAMES and media.fps == pytest.approx(FPS)


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = tree_digest(build_motility(tmp_path / "a", seed=3, n=3))
    assert a == tree_digest(build_motility(tmp_path / "b", seed=3, n=3))
    c = tree_digest(build_motility(tmp_path / "c", seed=4, n=3))
    assert a["cases.csv"] != c["cases.csv"]
    assert {v for k, v in a.items() if k.endswith(".mp4")}.isdisjoint(v for k, v in c.items() if k.endswith(".mp4"))


def test_frame_differences_separate_progressive_from_poor_motility_but_not_perfectly():
    """Mean absolute frame difference (how much moves): a real, imperfect cue for grade A/B."""
    motion, good = [], []
    rng = np.random.default_rng(1)
    for i, score in enumerate(rng.uniform(-0.4, 4.4, 50)):
        frames, _ = render_video(9, i, float(score))
        f = frames.astype(float)
        motion.append(np.abs(np.diff(f, axis=0)).mean() / f.std())
        good.append(score < 1.5)
    assert 0.7 <= auc(motion, good) <= 0.99
