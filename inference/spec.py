"""The model spec: `model.toml` beside one weights file per input role.

Parsed with tomllib into a frozen dataclass.  Every problem is reported as
``FILE: key: cause`` (all of them at once), like the study protocol.  Example::

    [model]
    name = "MRI sarcoma vs leiomyoma (demo)"
    architecture = "mobilenet_v2"   # see ARCHITECTURES
    width_mult = 0.5                # mobilenet_v2 only
    head = "binary"                 # see HEADS
    labels = ["leiomyoma", "sarcoma"]   # binary: negative, positive
    input_size = [128, 128]         # height, width (or one int)
    crop = 1.0                      # central fraction of each frame the network reads (1 = all)
    channels = 3                    # network input channels (gray is replicated)
    mean = [0.5, 0.5, 0.5]
    std = [0.25, 0.25, 0.25]
    input = "frames"                # frames | motion (first frame + frame differences)
    threshold = 0.5                 # operating point on the score (binary: p(positive); multiclass: summed
                                    # p of the positive labels): positive when score >= threshold
    threshold_rule = "youden"       # how it was chosen (free text, shown in reports)
    window = "media"                # media (DICOM default window) | minmax
    combine = "mean"                # mean of per-role probabilities
    aggregate = "max"               # specimens (several fields per case): max | mean over fields

    [slices]                        # volumes (series, multi-frame)
    select = "central"              # central | all: slices whose probabilities are averaged
    count = 5
    cam = "all"                     # all | selected: slices that get a CAM

    [video]
    key_frames = 1                  # windows (motion) or key frames (frames) per clip

    [segmentation]                  # segmentation head only (all keys optional)
    threshold = 0.5                 # mask = probability >= threshold
    field_mm = [3.0, 3.0]           # height, width of the image in mm when the media has no pixel
                                    # spacing (a 3x3 mm OCTA scan): areas are then in mm²
    score_center = 0.33             # AI score = logistic((area_mm2 - center) / scale): the
    score_scale = 0.05              # disease likelihood from the measured area (fitted on training data)

    [cam]
    method = "gradcam"              # gradcam | gradcam++ | hirescam | layercam | eigencam | scorecam | none
    target_layer = ""               # dotted module name; "" = found automatically
    eigen_smooth = false            # grad-cam's eigen smoothing (first principal component)
    aug_smooth = false              # mean of the CAMs of the image and its left-right mirror
    target = "predicted"            # predicted | a label
    size = 96                       # longest side of the stored CAM, pixels

    [[members]]                     # one sub-model per role; the MRI ensemble has three
    role = "T2axi"
    weights = "t2axi.pt"            # relative to this file; state dict or TorchScript
    sha256 = "..."
    window = [1100, 2200]           # optional: fixed window (modality units) instead of model.window

Tables ``[training]`` and ``[metrics]`` are free-form records written by the
training script (data, seed, held-out performance); the loader keeps them as
plain dicts.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from study.errors import ProblemList, StudyError
from study.specimen import AGGREGATES

ARCHITECTURES = (
    "mobilenet_v2",
    "mobilenet_v3_large",
    "resnet18",
    "resnet50",
    "densenet121",
    "vgg16",
    "efficientnet_b0",
    "unet",  # inference.unet: U-Net (Ronneberger 2015), width_mult narrows its channels; segmentation only
)
WIDTH_MULT_ARCHS = ("mobilenet_v2", "unet")
HEADS = ("binary", "multiclass", "regression", "grade_distribution", "segmentation")
CAM_METHODS = ("gradcam", "gradcam++", "hirescam", "layercam", "eigencam", "scorecam", "none")
INPUTS = ("frames", "motion")
WINDOWS = ("media", "minmax")


class SpecError(StudyError):
    """A model spec or weights file is unusable; ``problems`` name file and key."""


@dataclass(frozen=True)
class Member:
    """The sub-model that reads one media role."""

    role: str
    weights: Path
    sha256: str
    window: tuple[float, float] | None = None  # fixed (center, width) in modality units for this role


@dataclass(frozen=True)
class ModelSpec:
    path: Path
    architecture: str
    head: str
    labels: tuple[str, ...]
    members: tuple[Member, ...]
    input_size: tuple[int, int] = (224, 224)
    crop: float = 1.0  # central fraction of each frame (height and width) the network reads
    channels: int = 3
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    name: str = ""
    width_mult: float | None = None
    positive: tuple[str, ...] = ()
    unit: str = ""
    target_mean: float = 0.0  # regression: value = output * target_std + target_mean
    target_std: float = 1.0
    interval_halfwidth: float | None = None  # regression: +- band shown with the value
    threshold: float | None = None  # operating point on the score; None = argmax / 0.5
    threshold_rule: str = ""
    input: str = "frames"
    window: str = "media"
    combine: str = "mean"
    aggregate: str = "max"  # specimen score from field scores (study.specimen.AGGREGATES)
    slice_select: str = "central"
    slice_count: int = 5
    slice_cam: str = "all"
    key_frames: int = 1
    cam_method: str = "gradcam"
    cam_target_layer: str | None = None
    cam_target: str = "predicted"
    cam_size: int = 96
    seg_threshold: float = 0.5
    seg_field_mm: tuple[float, float] | None = None
    seg_score: tuple[float, float] | None = None  # (center, scale) of the logistic score on area (mm²)
    cam_eigen_smooth: bool = False
    cam_aug_smooth: bool = False
    training: dict[str, Any] = field(default_factory=dict, compare=False)
    metrics: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(m.role for m in self.members)

    @property
    def n_outputs(self) -> int:
        """Width of the network's last layer for this head."""
        if self.head == "binary":
            return 2
        if self.head == "regression":
            return 1
        return len(self.labels)

    @property
    def model_id(self) -> str:
        """sha256 of the weights file; for an ensemble, sha256 of its members' hashes."""
        if len(self.members) == 1:
            return self.members[0].sha256
        text = "".join(f"{m.role}:{m.sha256}\n" for m in self.members)
        return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Table:
    """Typed access to one TOML table; collects problems instead of raising."""

    def __init__(self, problems: ProblemList, data: dict, prefix: str) -> None:
        self.problems, self.data, self.prefix = problems, data, prefix

    def key(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def get(self, key: str, types, default=..., choices=None):
        if key not in self.data:
            if default is ...:
                self.problems.add(self.key(key), "missing required key")
                return None
            return default
        value = self.data[key]
        types = types if isinstance(types, tuple) else (types,)
        # bool is an int in Python; `channels = true` is still wrong.
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            self.problems.add(self.key(key), f"expected {names}, got {type(value).__name__} {value!r}")
            return None
        if choices is not None and value not in choices:
            self.problems.add(self.key(key), f"{value!r} is not one of {', '.join(choices)}")
            return None
        return value

    def number(self, key: str, default=..., positive: bool = False) -> float | None:
        value = self.get(key, (int, float), default)
        if value is None or value is default:
            return value
        if not math.isfinite(value) or (positive and value <= 0):
            self.problems.add(self.key(key), f"must be a {'positive ' if positive else ''}finite number, got {value!r}")
            return None
        return float(value)

    def list_of(self, key: str, item_type, default=...) -> tuple | None:
        value = self.get(key, list, default)
        if value is None or value is default:
            return value
        if not all(isinstance(v, item_type) and not isinstance(v, bool) for v in value):
            name = (item_type if isinstance(item_type, type) else item_type[0]).__name__
            self.problems.add(self.key(key), f"expected a list of {name}")
            return None
        return tuple(value)

    def table(self, key: str) -> _Table | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, dict):
            self.problems.add(self.key(key), f"expected a table, got {type(value).__name__}")
            return None
        return _Table(self.problems, value, key)

    def unknown(self, known: set[str]) -> None:
        for k in self.data:
            if k not in known:
                self.problems.add(self.key(k), "unknown key")


_MODEL_KEYS = {
    "name",
    "architecture",
    "width_mult",
    "head",
    "labels",
    "positive",
    "unit",
    "target_mean",
    "target_std",
    "interval_halfwidth",
    "input_size",
    "crop",
    "channels",
    "mean",
    "std",
    "input",
    "window",
    "combine",
    "aggregate",
    "threshold",
    "threshold_rule",
}


def _labels(m: _Table, head: str | None) -> tuple[str, ...]:
    if head == "regression":
        return tuple(m.list_of("labels", str, ("value",)) or ("value",))
    labels = m.list_of("labels", str)
    if labels is None:
        return ()
    if len(set(labels)) != len(labels) or not all(labels):
        m.problems.add(m.key("labels"), "labels must be non-empty and distinct")
    if head == "binary" and len(labels) != 2:
        m.problems.add(m.key("labels"), f"a binary head needs exactly 2 labels (negative, positive), got {len(labels)}")
    elif head in ("multiclass", "grade_distribution") and len(labels) < 2:
        m.problems.add(m.key("labels"), f"a {head} head needs at least 2 labels")
    elif head == "segmentation" and len(labels) < 1:
        m.problems.add(m.key("labels"), "a segmentation head needs at least 1 label")
    return labels


def _crop(m: _Table) -> float:
    crop = m.number("crop", 1.0, positive=True)
    if crop is None or crop > 1.0 or crop < 0.1:
        if crop is not None:
            m.problems.add(m.key("crop"), f"must be in 0.1..1 (fraction of the frame), got {crop}")
        return 1.0
    return crop


def _input_size(m: _Table) -> tuple[int, int]:
    raw = m.get("input_size", (int, list), [224, 224])
    if raw is None:
        return (224, 224)
    size = [raw, raw] if isinstance(raw, int) else raw
    if len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4096 for v in size):
        m.problems.add(m.key("input_size"), f"expected an int or [height, width] of ints in 8..4096, got {raw!r}")
        return (224, 224)
    return (size[0], size[1])


def _members(problems: ProblemList, data: dict, spec_dir: Path, check_files: bool) -> tuple[Member, ...]:
    raw = data.get("members")
    if raw is None:
        problems.add("members", "missing: add one [[members]] table per role (role, weights, sha256)")
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        problems.add("members", "expected one or more [[members]] tables")
        return ()
    members: list[Member] = []
    for i, entry in enumerate(raw):
        t = _Table(problems, entry, f"members[{i}]")
        t.unknown({"role", "weights", "sha256", "window"})
        role, weights, sha = t.get("role", str), t.get("weights", str), t.get("sha256", str)
        window = t.list_of("window", (int, float), None)
        if window is not None and (len(window) != 2 or window[1] <= 0):
            problems.add(t.key("window"), f"expected [center, width] with width > 0, got {list(window)}")
            window = None
        if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha.lower())):
            problems.add(t.key("sha256"), f"expected 64 hex digits, got {sha!r}")
            sha = None
        if weights is not None:
            full = (spec_dir / weights).resolve()
            if check_files and not full.is_file():
                problems.add(t.key("weights"), f"weights file not found: {full}")
        if role and weights and sha:
            members.append(
                Member(
                    role,
                    (spec_dir / weights).resolve(),
                    sha.lower(),
                    None if window is None else (float(window[0]), float(window[1])),
                )
            )
    roles = [m.role for m in members]
    if len(set(roles)) != len(roles):
        problems.add("members", f"a role appears twice: {', '.join(roles)}")
    return tuple(members)


def parse_spec(data: dict, path: str | Path, check_files: bool = True) -> ModelSpec:
    """Validate a decoded model.toml; raise SpecError listing every problem."""
    path = Path(path).resolve()
    problems = ProblemList(str(path))
    for key in data:
        if key not in {"model", "slices", "video", "cam", "segmentation", "members", "training", "metrics"}:
            problems.add(key, "unknown key")
    if not isinstance(data.get("model"), dict):
        problems.add("model", "missing required table [model]")
        raise SpecError(problems.items)
    m = _Table(problems, data["model"], "model")
    m.unknown(_MODEL_KEYS)
    arch = m.get("architecture", str, choices=ARCHITECTURES)
    head = m.get("head", str, choices=HEADS)
    labels = _labels(m, head)
    input_size = _input_size(m)
    positive = m.list_of("positive", str, ()) or ()
    for p in positive:
        if labels and p not in labels:
            problems.add("model.positive", f"{p!r} is not one of the labels")
    channels = m.get("channels", int, 3)
    if channels is not None and channels not in (1, 3):
        problems.add("model.channels", f"must be 1 or 3, got {channels}")
        channels = 3
    channels = channels or 3
    default_mean = (0.485, 0.456, 0.406)[:channels] if channels == 3 else (0.5,)
    default_std = (0.229, 0.224, 0.225)[:channels] if channels == 3 else (0.25,)
    mean = m.list_of("mean", (int, float), default_mean) or default_mean
    std = m.list_of("std", (int, float), default_std) or default_std
    for key, vec in (("mean", mean), ("std", std)):
        if len(vec) != channels:
            problems.add(f"model.{key}", f"needs {channels} values (one per channel), got {len(vec)}")
    if any(s <= 0 for s in std):
        problems.add("model.std", "every value must be positive")
    width_mult = m.number("width_mult", None, positive=True)
    if width_mult is not None and arch not in WIDTH_MULT_ARCHS:
        problems.add("model.width_mult", f"only {' and '.join(WIDTH_MULT_ARCHS)} take width_mult, not {arch}")
    if arch == "unet" and head != "segmentation":
        problems.add("model.head", f"a unet has a segmentation head, not {head}")
    if arch == "unet" and any(v % 16 for v in input_size):
        problems.add("model.input_size", f"a unet needs multiples of 16 (four 2x2 poolings), got {list(input_size)}")
    if head == "segmentation" and m.data.get("input") == "motion":
        problems.add("model.input", "a segmentation head reads frames, not motion")
    kw: dict[str, Any] = dict(
        name=m.get("name", str, "") or "",
        unit=m.get("unit", str, "") or "",
        target_mean=m.number("target_mean", 0.0) or 0.0,
        target_std=m.number("target_std", 1.0, positive=True) or 1.0,
        interval_halfwidth=m.number("interval_halfwidth", None, positive=True),
        crop=_crop(m),
        input=m.get("input", str, "frames", choices=INPUTS) or "frames",
        window=m.get("window", str, "media", choices=WINDOWS) or "media",
        combine=m.get("combine", str, "mean", choices=("mean",)) or "mean",
        aggregate=m.get("aggregate", str, "max", choices=AGGREGATES) or "max",
        threshold=m.number("threshold", None),
        threshold_rule=m.get("threshold_rule", str, "") or "",
    )
    if kw["threshold"] is not None and not 0.0 < kw["threshold"] < 1.0:
        problems.add("model.threshold", f"must be in (0, 1) (a probability), got {kw['threshold']}")
        kw["threshold"] = None
    if kw["threshold"] is not None and head not in ("binary", "multiclass"):
        problems.add("model.threshold", f"only binary and multiclass heads take a threshold, not {head}")
    if kw["threshold"] is not None and head == "multiclass" and not positive:
        problems.add("model.threshold", "a multiclass threshold needs model.positive (the labels it sums)")
    s = _sub(problems, data, "slices")
    if s is not None:
        s.unknown({"select", "count", "cam"})
        kw["slice_select"] = s.get("select", str, "central", choices=("central", "all")) or "central"
        count = s.get("count", int, 5)
        if count is not None and count < 1:
            problems.add("slices.count", f"must be 1 or more, got {count}")
        kw["slice_count"] = count or 5
        kw["slice_cam"] = s.get("cam", str, "all", choices=("all", "selected")) or "all"
    v = _sub(problems, data, "video")
    if v is not None:
        v.unknown({"key_frames"})
        k = v.get("key_frames", int, 1)
        if k is not None and not 1 <= k <= 64:
            problems.add("video.key_frames", f"must be in 1..64, got {k}")
        kw["key_frames"] = k if k and 1 <= k <= 64 else 1
    c = _sub(problems, data, "cam")
    if c is not None:
        c.unknown({"method", "target_layer", "target", "size", "eigen_smooth", "aug_smooth"})
        kw["cam_eigen_smooth"] = bool(c.get("eigen_smooth", bool, False))
        kw["cam_aug_smooth"] = bool(c.get("aug_smooth", bool, False))
        kw["cam_method"] = c.get("method", str, "gradcam", choices=CAM_METHODS) or "gradcam"
        kw["cam_target_layer"] = c.get("target_layer", str, "") or None
        target = c.get("target", str, "predicted") or "predicted"
        if target != "predicted" and labels and target not in labels:
            problems.add("cam.target", f"{target!r} is neither 'predicted' nor one of the labels")
        kw["cam_target"] = target
        size = c.get("size", int, 96)
        if size is not None and not 8 <= size <= 512:
            problems.add("cam.size", f"must be in 8..512 pixels, got {size}")
        kw["cam_size"] = size if size and 8 <= size <= 512 else 96
    if head == "segmentation":
        kw["cam_method"] = "none"  # the mask itself is the overlay
    g = _sub(problems, data, "segmentation")
    if g is not None:
        g.unknown({"threshold", "field_mm", "score_center", "score_scale"})
        if head != "segmentation":
            problems.add("segmentation", f"only a segmentation head takes this table, not {head}")
        thr = g.number("threshold", 0.5)
        if thr is not None and not 0 < thr < 1:
            problems.add("segmentation.threshold", f"must be in (0, 1), got {thr}")
        kw["seg_threshold"] = thr if thr is not None and 0 < thr < 1 else 0.5
        fmm = g.list_of("field_mm", (int, float), None)
        if fmm is not None:
            if len(fmm) != 2 or min(fmm) <= 0:
                problems.add("segmentation.field_mm", f"expected [height_mm, width_mm] > 0, got {list(fmm)}")
            else:
                kw["seg_field_mm"] = (float(fmm[0]), float(fmm[1]))
        center, scale = g.number("score_center", None), g.number("score_scale", None, positive=True)
        if (center is None) != (scale is None):
            problems.add("segmentation", "score_center and score_scale go together")
        elif center is not None:
            kw["seg_score"] = (center, scale)
    members = _members(problems, data, path.parent, check_files)
    training = data.get("training", {})
    metrics = data.get("metrics", {})
    for key, value in (("training", training), ("metrics", metrics)):
        if not isinstance(value, dict):
            problems.add(key, f"expected a table, got {type(value).__name__}")
    if problems.items:
        raise SpecError(problems.items)
    return ModelSpec(
        path=path,
        architecture=arch,
        head=head,
        labels=labels,
        members=members,
        input_size=input_size,
        channels=channels,
        mean=tuple(map(float, mean)),
        std=tuple(map(float, std)),
        width_mult=width_mult,
        positive=positive,
        training=dict(training),
        metrics=dict(metrics),
        **kw,
    )


def _sub(problems: ProblemList, data: dict, key: str) -> _Table | None:
    if key not in data:
        return None
    if not isinstance(data[key], dict):
        problems.add(key, f"expected a table, got {type(data[key]).__name__}")
        return None
    return _Table(problems, data[key], key)


def load_spec(path: str | Path, check_files: bool = True) -> ModelSpec:
    """Read and validate a model.toml (weights hashes are checked on load_model)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.toml"
    if not path.is_file():
        raise SpecError([f"{path}: file not found"])
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise SpecError([f"{path}: not UTF-8 text (byte {err.start})"]) from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError([f"{path}: invalid TOML: {err}"]) from None
    return parse_spec(data, path, check_files)
