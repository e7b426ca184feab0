"""Run a loaded model over one case's media: prediction and CAMs as an ``AIOutput``."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from inference.cam import CamMethod, class_targets, edge_fade, finish, make_cam
from inference.load import LoadedModel
from inference.network import find_target_layer
from inference.preprocess import InputPlan, crop_box, plan_inputs
from inference.spec import ModelSpec
from study.aioutput import AIOutput
from study.media.types import Media, MediaError


@functools.cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("torch", "torchvision", "grad-cam", "numpy", "readerstudy"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions


def cam_shape(frame_hw: tuple[int, int], size: int) -> tuple[int, int]:
    """CAM size with the frame's aspect ratio, longest side ``size`` (never above the frame)."""
    h, w = frame_hw
    scale = min(1.0, size / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


@dataclass
class _RoleRun:
    plan: InputPlan
    outputs: list[torch.Tensor] = field(default_factory=list)  # per batch
    passes: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = field(default_factory=list)  # (x, out, acts)


def _cam_engine(model: LoadedModel, role: str) -> CamMethod | None:
    if not model.cam_supported:
        return None
    cache = model.__dict__.setdefault("_cams", {})
    if role not in cache:
        net = model.nets[role]
        layer = find_target_layer(net, model.spec.cam_target_layer)
        cache[role] = make_cam(model.spec.cam_method, net, layer, model.spec.cam_eigen_smooth)
    return cache[role]


def _run_role(
    model: LoadedModel, role: str, plan: InputPlan, with_cam: bool, batch_size: int, mirror: bool = False
) -> _RoleRun:
    """Forward passes over the plan's images in batches.  With ``mirror`` (augmentation smoothing) each
    batch carries its left-right mirror image too, so the CAM's second view costs no second pass; the
    outputs kept are the unmirrored images' only (the prediction never sees the mirror)."""
    run = _RoleRun(plan)
    engine = _cam_engine(model, role) if with_cam else None
    for start in range(0, plan.images.shape[0], batch_size):
        x = plan.images[start : start + batch_size].to(model.device)
        if engine is None:
            with torch.inference_mode():
                out = model.nets[role](x)
        else:
            xs = torch.cat([x, x.flip(-1)]) if mirror else x
            out, acts = engine.forward(xs)
            run.passes.append((xs, out, acts))
            out = out[: x.shape[0]]
        run.outputs.append(out.detach().float())
    return run


def _per_image(spec: ModelSpec, out: torch.Tensor) -> torch.Tensor:
    """Per-image probabilities (classification heads), value (regression) or label fractions (segmentation)."""
    if spec.head == "regression":
        return out[:, :1] * spec.target_std + spec.target_mean
    if spec.head == "segmentation":
        return _mask_probs(spec, out).flatten(2).mean(-1)
    return torch.softmax(out, dim=1)


def _mask_probs(spec: ModelSpec, out: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(out) if spec.n_outputs == 1 else torch.softmax(out, dim=1)


def _summary(spec: ModelSpec, combined: np.ndarray) -> dict:
    if spec.head == "regression":
        value = float(combined[0])
        half = spec.interval_halfwidth
        return dict(
            value=value,
            interval=None if half is None else (value - half, value + half),
            predicted=f"{value:.2f}",
            score=value,
            labels=spec.labels,
        )
    probs = tuple(float(p) for p in combined)
    top = int(np.argmax(combined))
    if spec.head == "binary":
        score = probs[1]
        if spec.threshold is not None:  # the model's operating point, not argmax (= 0.5)
            top = int(score >= spec.threshold)
    elif spec.head == "multiclass":
        idx = [spec.labels.index(p) for p in spec.positive]
        score = float(sum(probs[i] for i in idx)) if idx else probs[top]
        if spec.threshold is not None and idx:
            # The call follows the operating point: the most likely positive label when the positive
            # labels' summed probability reaches the threshold, else the most likely other label.
            group = idx if score >= spec.threshold else [i for i in range(len(probs)) if i not in idx]
            top = max(group, key=lambda i: probs[i])
    elif spec.head == "grade_distribution":
        # Expected grade position in [0, 1]: higher = worse grade (later in the list).
        score = float(np.dot(combined, np.arange(len(probs))) / max(1, len(probs) - 1))
    else:  # segmentation: fraction of the frame that is foreground
        score = 1.0 - probs[0] if len(probs) > 1 else probs[0]
    predicted = spec.labels[top] if spec.head != "segmentation" else ""
    point = {}
    if spec.threshold is not None and spec.head in ("binary", "multiclass"):
        # The operating point travels with the output: the panel and the report say it with the call.
        positive = (spec.labels[1],) if spec.head == "binary" else tuple(spec.positive)
        point = {"threshold_rule": spec.threshold_rule, "positive": positive}
    return dict(
        labels=spec.labels, probabilities=probs, predicted=predicted, score=score, threshold=spec.threshold, **point
    )


def pixel_spacing(spec: ModelSpec, media: Media) -> tuple[float, float] | None:
    """(row, col) mm per pixel: the media's own spacing when it declares one (DICOM
    PixelSpacing; not the 1 mm display default of a DICOM without it), else the spec's
    ``segmentation.field_mm`` over the frame size, else None (unknown)."""
    if media.spacing_known:
        return (float(media.spacing[0]), float(media.spacing[1]))
    if spec.seg_field_mm is not None:
        h, w = media.frames.shape[1:3]
        return (spec.seg_field_mm[0] / h, spec.seg_field_mm[1] / w)
    return None


def measure_region(spec: ModelSpec, fg: torch.Tensor, plan: InputPlan, media: Media) -> dict[str, float]:
    """Area and circularity of the predicted region at the media's full resolution.

    fg: (K, h, w) foreground probabilities of the network's images.  The
    region is the probability resized bilinearly to the (cropped) frame and
    cut at ``segmentation.threshold``; summed over the frames that have an
    image.  Keys ``<label>_area_mm2`` (``<label>_area_px`` without spacing) and
    ``circularity`` (4πA/P², on the largest slice; see
    ``study.stats.regions.circularity``), ``<label>`` the last label lowercased.
    """
    from study.stats.regions import area_mm2, circularity

    h, w = media.frames.shape[1:3]
    r0, c0, r1, c1 = crop_box((h, w), spec.crop)
    idx = sorted({int(i) for i in plan.frame_map if i >= 0})
    probs = torch.nn.functional.interpolate(fg[idx][:, None].float(), size=(r1 - r0, c1 - c0), mode="bilinear")
    mask = np.zeros((len(idx), h, w), dtype=bool)
    mask[:, r0:r1, c0:c1] = probs[:, 0].numpy() >= spec.seg_threshold
    name = spec.labels[-1].lower().replace(" ", "_")
    spacing = pixel_spacing(spec, media)
    area = area_mm2(mask, spacing)
    return {f"{name}_area_{'mm2' if spacing else 'px'}": area, "circularity": circularity(mask)}


def _target_index(spec: ModelSpec, combined: np.ndarray, target: str | None, predicted: str) -> int:
    target = target or spec.cam_target
    if spec.head == "regression":
        return 0
    if target != "predicted":
        if target not in spec.labels:
            raise ValueError(f"CAM target {target!r} is not one of {', '.join(spec.labels)}")
        return spec.labels.index(target)
    return spec.labels.index(predicted) if predicted in spec.labels else int(np.argmax(combined))


def _cam_maps(engine: CamMethod, passes: list, idx: int, size: tuple[int, int], aug_smooth: bool) -> torch.Tensor:
    """(K, h, w) maps in [0, 1] of one role's images; with ``aug_smooth`` the mean with the mirrored image's
    map (grad-cam's augmentation smoothing, left-right mirror only; the mirror is the second half of each
    pass, see ``_run_role``)."""
    maps = []
    for x, out, acts in passes:
        m = engine.maps(x, out, acts, class_targets([idx] * x.shape[0]))
        if aug_smooth:
            half = x.shape[0] // 2
            m = 0.5 * (m[:half] + m[half:].flip(-1))
        maps.append(finish(m, size))
    return torch.cat(maps).cpu()


def _assemble(plan: InputPlan, maps: torch.Tensor, n_frames: int, shape: tuple[int, int]) -> np.ndarray:
    """Per media frame: its image's map, zeros where no image covers the frame."""
    out = np.zeros((n_frames, *shape), dtype=np.float16)
    have = plan.frame_map >= 0
    out[have] = maps.numpy()[plan.frame_map[have]].astype(np.float16)
    return out


def predict(
    model: LoadedModel,
    media_by_role: Mapping[str, Media],
    *,
    case_id: str = "",
    cams: bool = True,
    target: str | None = None,
    batch_size: int = 32,
) -> AIOutput:
    """Prediction (combined over roles by the mean) and one CAM per image, slice or key frame.

    ``target``: CAM for this label instead of the spec's ``cam.target``
    (default: the predicted class).  Raises MediaError if a role is missing.
    """
    spec = model.spec
    with_cam = cams and model.cam_supported
    runs: dict[str, _RoleRun] = {}
    for member in spec.members:
        media = media_by_role.get(member.role)
        if media is None:
            raise MediaError(case_id or "case", f"no media for role {member.role!r} that the model reads")
        plan = plan_inputs(media, spec, member.window)
        runs[member.role] = _run_role(model, member.role, plan, with_cam, batch_size, spec.cam_aug_smooth)
    per_role = []
    for run in runs.values():
        per = _per_image(spec, torch.cat(run.outputs))
        per_role.append(per[list(run.plan.predict_index)].mean(0))
    combined = torch.stack(per_role).mean(0).cpu().numpy()  # combine = "mean"
    if not np.all(np.isfinite(combined)):  # never store (or show) a NaN prediction
        raise ValueError(f"model output is not finite ({combined.tolist()}) for case {case_id or '?'}")
    out_cams: dict[str, np.ndarray] = {}
    measurements: dict[str, float] = {}
    summary = _summary(spec, combined)
    if spec.head == "segmentation":
        for role, run in runs.items():
            masks = _mask_probs(spec, torch.cat(run.outputs))
            fg = masks[:, 0] if spec.n_outputs == 1 else 1.0 - masks[:, 0]
            media = media_by_role[role]
            shape = cam_shape(media.frames.shape[1:3], spec.cam_size)
            r0, c0, r1, c1 = crop_box(shape, spec.crop)
            resized = (
                torch.nn.functional.interpolate(
                    fg[:, None], size=(r1 - r0, c1 - c0), mode="bilinear", align_corners=False
                )[:, 0]
                .clamp(0, 1)
                .cpu()
            )
            if spec.crop < 1.0:
                resized = torch.nn.functional.pad(resized, (c0, shape[1] - c1, r0, shape[0] - r1))
            if cams:
                out_cams[role] = _assemble(run.plan, resized, media.n_frames, shape)
            if not measurements:  # the first role the model reads is measured
                measurements = measure_region(spec, fg.cpu(), run.plan, media)
        areas = [v for k, v in measurements.items() if k.endswith("_area_mm2")]
        if spec.seg_score is not None and areas:
            # The disease score from the measurement (documented in the spec module).
            center, scale = spec.seg_score
            area = areas[0]
            summary["score"] = float(1.0 / (1.0 + np.exp(-(area - center) / scale)))
    elif with_cam:
        idx = _target_index(spec, combined, target, summary["predicted"])
        for role, run in runs.items():
            engine = _cam_engine(model, role)
            media = media_by_role[role]
            shape = cam_shape(media.frames.shape[1:3], spec.cam_size)
            # The network saw the central crop: its maps fill that box of the frame's CAM, fading to zero at
            # the box's edge (no rectangular cut-off where the network's view ends).
            r0, c0, r1, c1 = crop_box(shape, spec.crop)
            maps = _cam_maps(engine, run.passes, idx, (r1 - r0, c1 - c0), spec.cam_aug_smooth)
            if spec.crop < 1.0:
                maps = maps * edge_fade((r1 - r0, c1 - c0))
                maps = torch.nn.functional.pad(maps, (c0, shape[1] - c1, r0, shape[0] - r1))
            out_cams[role] = _assemble(run.plan, maps, media.n_frames, shape)
            run.passes.clear()  # free the autograd graphs
    return AIOutput(
        case_id=case_id,
        model_id=spec.model_id,
        head=spec.head,
        cams=out_cams,
        cam_method="segmentation" if spec.head == "segmentation" else (spec.cam_method if with_cam else ""),
        # which class the heat explains: the screen draws it as strongly as the AI scores that class
        cam_target=(target or spec.cam_target) if with_cam and spec.head != "segmentation" else "",
        versions=dict(library_versions()),
        measurements=measurements,
        **summary,
    )
