"""Group indexed objects into patient -> study -> series -> volume.

A series splits into volumes by what makes its images not one stack:
orientation (a three-plane localizer), b-value (a DWI series with b=0 and
b=1000 at the same positions), echo and temporal position.  Each multi-frame
object is a volume of its own.  Within a volume, slices are sorted along the
slice normal (then InstanceNumber); a volume whose images still share
positions is kept but carries a problem, so matching never picks it silently.

``kind`` is "localizer" (ImageType LOCALIZER, or a scout/survey/localizer
description), "secondary capture" (SOP class 1.2.840.10008.5.1.4.1.1.7.*) or
"image".
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from study.intake.header import DicomObject, plane_of

_LOCALIZER_WORDS = re.compile(r"(localizer|localiser|scout|survey|tri[-_ ]?pilot|\bloc\b|3[-_ ]?plane)", re.IGNORECASE)


@dataclass(frozen=True)
class Volume:
    """One viewable stack: the unit a role is matched to.  ``files`` are in anatomical order."""

    volume_id: str
    patient_id: str
    study_uid: str
    accession: str
    series_uid: str
    series_number: int | None
    series_description: str
    protocol_name: str
    sequence_name: str
    modality: str
    body_part: str
    orientation: str
    b_value: float | None
    echo: float | None
    temporal: float | None
    kind: str
    files: tuple[str, ...]
    n_images: int
    burned_in: str
    problems: tuple[str, ...] = ()

    def label(self) -> str:
        """Short human description, e.g. ``#5 ep2d_diff axial b=1000 (20 images)``."""
        parts = [f"#{self.series_number}" if self.series_number is not None else "#?", self.series_description or "-"]
        if self.orientation:
            parts.append(self.orientation)
        if self.b_value is not None:
            parts.append(f"b={self.b_value:g}")
        if self.echo is not None:
            parts.append(f"echo {self.echo:g}")
        if self.temporal is not None:
            parts.append(f"t={self.temporal:g}")
        if self.kind != "image":
            parts.append(f"[{self.kind}]")
        return " ".join(parts) + f" ({self.n_images} image{'s' if self.n_images != 1 else ''})"

    def attributes(self) -> dict[str, object]:
        """Values role rules test, by their DICOM keyword (plus computed ``orientation``, ``b_value``)."""
        return {
            "SeriesDescription": self.series_description,
            "ProtocolName": self.protocol_name,
            "SequenceName": self.sequence_name,
            "Modality": self.modality,
            "SeriesNumber": self.series_number,
            "BodyPartExamined": self.body_part,
            "orientation": self.orientation,
            "b_value": self.b_value,
            "echo": self.echo,
            "temporal": self.temporal,
            "kind": self.kind,
            "n_images": self.n_images,
        }


@dataclass(frozen=True)
class Series:
    series_uid: str
    number: int | None
    description: str
    modality: str
    volumes: tuple[Volume, ...]


@dataclass(frozen=True)
class Study:
    study_uid: str
    date: str
    description: str
    accession: str
    series: tuple[Series, ...]

    @property
    def volumes(self) -> tuple[Volume, ...]:
        return tuple(v for s in self.series for v in s.volumes)


@dataclass(frozen=True)
class Patient:
    patient_id: str
    name: str
    studies: tuple[Study, ...]

    @property
    def volumes(self) -> tuple[Volume, ...]:
        return tuple(v for s in self.studies for v in s.volumes)


def kind_of(obj: DicomObject) -> str:
    if obj.is_secondary_capture:
        return "secondary capture"
    if "LOCALIZER" in obj.image_type or _LOCALIZER_WORDS.search(obj.series_description or obj.protocol_name or ""):
        return "localizer"
    return "image"


def _volume_key(obj: DicomObject) -> tuple:
    rounded = None if obj.orientation is None else tuple(round(v, 2) for v in obj.orientation)
    multiframe = obj.sop_uid if obj.frames > 1 else ""
    return (rounded, obj.b_value, obj.echo, obj.temporal, multiframe)


def _volume_id(series_uid: str, key: tuple) -> str:
    return hashlib.sha1(f"{series_uid}|{key!r}".encode()).hexdigest()[:12]


def _sorted_files(objs: list[DicomObject]) -> tuple[list[DicomObject], list[str]]:
    """Objects in anatomical order, and problems (shared positions)."""
    iop = objs[0].orientation
    if iop is not None and all(o.position is not None for o in objs):
        normal = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
        along = {id(o): float(normal @ np.asarray(o.position)) for o in objs}
        objs = sorted(objs, key=lambda o: (along[id(o)], o.instance or 0, o.path))
        values = sorted(round(a, 3) for a in along.values())
        shared = len(values) - len(set(values))
        if shared and len(set(values)) > 1:
            why = f"{shared + 1} images share slice positions after splitting by orientation, b-value, echo and time"
            return objs, [f"{why}: not one volume"]
        return objs, []
    return sorted(objs, key=lambda o: (o.instance or 0, o.path)), []


def _series_volumes(objs: list[DicomObject]) -> list[Volume]:
    by_key: dict[tuple, list[DicomObject]] = defaultdict(list)
    seen: set[str] = set()
    for o in objs:
        if o.sop_uid in seen:
            continue  # the same image twice (a copied file)
        seen.add(o.sop_uid)
        by_key[_volume_key(o)].append(o)
    volumes = []
    for key, members in by_key.items():
        members, problems = _sorted_files(members)
        first = members[0]
        kinds = {kind_of(o) for o in members}
        volumes.append(
            Volume(
                volume_id=_volume_id(first.series_uid, key),
                patient_id=first.patient_id,
                study_uid=first.study_uid,
                accession=first.accession,
                series_uid=first.series_uid,
                series_number=first.series_number,
                series_description=first.series_description,
                protocol_name=first.protocol_name,
                sequence_name=first.sequence_name,
                modality=first.modality,
                body_part=first.body_part,
                orientation=plane_of(first.orientation),
                b_value=first.b_value,
                echo=first.echo,
                temporal=first.temporal,
                kind="localizer" if "localizer" in kinds else kinds.pop(),
                files=tuple(o.path for o in members),
                n_images=sum(o.frames for o in members),
                burned_in="YES" if any(o.burned_in == "YES" for o in members) else first.burned_in,
                problems=tuple(problems),
            )
        )
    volumes.sort(
        key=lambda v: (
            v.orientation,
            -1 if v.b_value is None else v.b_value,
            -1 if v.echo is None else v.echo,
            -1 if v.temporal is None else v.temporal,
        )
    )
    return volumes


def group(objects: Iterable[DicomObject]) -> tuple[Patient, ...]:
    """Image objects (with pixels) grouped patient -> study -> series -> volume, each level sorted."""
    tree: dict[str, dict[str, dict[str, list[DicomObject]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for o in objects:
        if o.has_pixels:
            tree[o.patient_id][o.study_uid][o.series_uid].append(o)
    patients = []
    for pid in sorted(tree):
        studies = []
        for suid, series_map in tree[pid].items():
            series = []
            for ser_uid, objs in series_map.items():
                f = objs[0]
                series.append(
                    Series(ser_uid, f.series_number, f.series_description, f.modality, tuple(_series_volumes(objs)))
                )
            series.sort(key=lambda s: (s.number if s.number is not None else 1 << 30, s.series_uid))
            f = next(iter(series_map.values()))[0]
            studies.append(Study(suid, f.study_date, f.study_description, f.accession, tuple(series)))
        studies.sort(key=lambda s: (s.date, s.study_uid))
        first = next(iter(next(iter(tree[pid].values())).values()))[0]
        patients.append(Patient(pid, first.patient_name, tuple(studies)))
    return tuple(patients)
