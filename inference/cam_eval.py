"""Run a model's CAMs over a demo study's findings and choose the CAM settings by their figures.

Each finding (``inference.cam_quality.read_findings``) is scored on the CAM
that ``predict`` gives for that frame, through the real preprocessing (crop,
fade at the crop edge, resize to ``cam.size``).  A volume is cut to the
finding's frame first: the CAM of a slice depends on that slice only, and the
MRI CAM target is a fixed label, so this is the CAM the reader sees there.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from inference.cam_quality import CamScore, Finding, read_findings, score, summarize
from inference.demo_cases import read_cases
from inference.load import LoadedModel
from inference.predict import predict
from study.media.types import Media


@dataclasses.dataclass(frozen=True)
class FindingImage:
    finding: Finding
    media: Media  # the finding's frame only (one frame), or the whole clip (motion input)


def _one_frame(media: Media, k: int) -> Media:
    frames = np.ascontiguousarray(media.frames[k : k + 1])
    fw = media.frame_windows[k : k + 1] if media.frame_windows else None
    return dataclasses.replace(media, frames=frames, slice_positions=None, frame_times=None, frame_windows=fw)


def load_findings(model: LoadedModel, study: Path, case_ids: Iterable[str] | None = None) -> list[FindingImage]:
    """The study's findings with the media they lie on (cases in ``case_ids``, default all)."""
    from study.media import load

    wanted = None if case_ids is None else set(case_ids)
    roles = set(model.spec.roles)
    # A specimen study's findings lie on its fields: one "case" per field (inference.demo_cases).
    cases = [c for c in read_cases(study) if wanted is None or c.case_id in wanted]
    media = {(c.case_id, r): load(p) for c in cases for r, p in c.paths.items() if r in roles}
    findings = read_findings(study, {k: m.frames.shape[1:3] for k, m in media.items()})
    out = []
    for f in findings:
        m = media[(f.case_id, f.role)]
        out.append(FindingImage(f, m if model.spec.input == "motion" else _one_frame(m, f.frame)))
    return out


def cam_scores(model: LoadedModel, items: list[FindingImage]) -> list[CamScore]:
    """Score every finding on the CAM ``predict`` gives for it (one role at a time)."""
    singles: dict[str, LoadedModel] = {}
    for member in model.spec.members:
        spec = dataclasses.replace(model.spec, members=(member,))
        singles[member.role] = LoadedModel(spec, {member.role: model.nets[member.role]}, model.device)
    out = []
    for item in items:
        f = item.finding
        ai = predict(singles[f.role], {f.role: item.media}, case_id=f.case_id)
        cam = ai.cams[f.role][0 if model.spec.input != "motion" else f.frame].astype(np.float32)
        out.append(score(cam, f))
    return out


CANDIDATE_METHODS = ("gradcam", "gradcam++", "hirescam", "layercam")


def candidates(layers: Iterable[str], methods: Iterable[str] = CANDIDATE_METHODS) -> list[dict]:
    """Every (layer, method, eigen_smooth, aug_smooth) setting to try, as spec field values."""
    return [
        dict(cam_target_layer=layer, cam_method=method, cam_eigen_smooth=eigen, cam_aug_smooth=aug)
        for layer, method, eigen, aug in itertools.product(layers, methods, (False, True), (False, True))
    ]


def choose_cam(
    model: LoadedModel, items: list[FindingImage], settings: list[dict], log=print
) -> tuple[dict, dict[str, float], list[tuple[dict, dict[str, float]]]]:
    """The setting with the best mean of pointing and energy on ``items`` (a validation split).

    Returns (setting, its figures, every setting's figures).
    """
    table = []
    for setting in settings:
        trial = LoadedModel(dataclasses.replace(model.spec, **setting), model.nets, model.device)
        figures = summarize(cam_scores(trial, items))
        table.append((setting, figures))
        log(f"  CAM {setting}: pointing {figures['pointing']:.3f} energy {figures['energy']:.3f}")
    best = max(table, key=lambda t: t[1]["pointing"] + t[1]["energy"])
    return best[0], best[1], table
