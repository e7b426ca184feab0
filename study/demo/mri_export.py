"""The MRI demo as a PACS-like export, and the demo study built from it by rules (the intake, end to end).

``write_mri_export(export_dir, seed, n)`` writes, per patient, one folder
holding every series mixed together under vendor-style names, as a PACS
export does: a two-plane localizer, a T1, the T2 axial and T2 sagittal, ONE
DWI series holding b=0 and b=1000 images at the same positions, and an ADC
map.  Siemens-style ``<PATIENT>.MR.<SERIES>.<NO>.<INSTANCE>.IMA`` names, and
storescp-style ``MR.<SOP UID>`` for the DWI.  T2 axial, T2 sagittal and DWI
b=1000 are the very series :mod:`study.demo.mri` renders for the same seed
(same phantom, same random stream); b=0 is the phantom's T2-weighted signal on
the DWI geometry, T1 an inverted T2 (synthetic contrast), ADC = ln(b0 / b1000)
/ 1000 in 10^-6 mm^2/s.

``build_mri_study`` (what :func:`study.demo.mri.build_mri`, and so
``readerstudy demo``, runs) writes the export into ``STUDY/pacs-export/`` and
builds the study from it with ``DEMO_RULES`` through
:func:`study.intake.build.build_from_dicom`, the code path of ``readerstudy new
--from-dicom``: T2axi, T2sag and DWI at the highest b-value.  Patients are
rendered and written in parallel processes; every byte is a function of the seed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

import study.demo.mri as mri
from study.demo.common import (
    DEFAULT_SEED,
    exact_labels,
    prepare_study_dir,
    rng_for,
    write_csv,
    write_demo_json,
    write_protocol,
)
from study.demo.dicom_writer import SeriesGeometry, SeriesInfo, demo_uid, write_series
from study.demo.mri import (
    NAME,
    ROLES,
    SARCOMA_FRACTION,
    SERIES_INFO,
    _patient_tags,
    simulate_patient,
)
from study.errors import StudyError
from study.intake.build import INDEX, BuildResult, build_from_dicom
from study.intake.volumes import Volume

EXPORT = "pacs-export"  # the export's folder inside the demo study folder
DEMO_RULES = """
[hanging]
roles = ["T2axi", "T2sag", "DWI"]

[hanging.match.T2axi]
rules = [
  { attribute = "SeriesDescription", test = "regex", value = "(?i)t2", weight = 2 },
  { attribute = "orientation", test = "equals", value = "axial", weight = 3, required = true },
]

[hanging.match.T2sag]
rules = [
  { attribute = "SeriesDescription", test = "regex", value = "(?i)t2", weight = 2 },
  { attribute = "orientation", test = "equals", value = "sagittal", weight = 3, required = true },
]

[hanging.match.DWI]
prefer = "highest_b_value"
rules = [
  { attribute = "SeriesDescription", test = "regex", value = "(?i)(dwi|diff)", weight = 2, required = true },
  { attribute = "b_value", test = "range", min = 500, max = 3000, weight = 1 },
]
"""

DWI_INFO = {
    0: SeriesInfo("ep2d_diff b0 b1000 AX", 5, "EP", 72.0, 5200.0, rescale_slope=0.5, b_value=0.0),
    1000: dataclasses.replace(SERIES_INFO["DWI"], description="ep2d_diff b0 b1000 AX"),
}
OTHER_INFO = {
    "loc": SeriesInfo("localizer", 1, "GR", 4.0, 8.6),
    "T1": SeriesInfo("T1 TSE AX", 4, "SE", 12.0, 600.0),
    "ADC": SeriesInfo("ADC", 6, "EP", 72.0, 5200.0),
}


def render_patient(seed: int, index: int, sarcoma: bool) -> tuple[dict[str, tuple], dict, dict[str, np.ndarray]]:
    """One patient's export: ({name: (geometry, pixels)}, latent features, {role: mass membership}).

    T2axi, T2sag and DWI (b=1000) are :func:`study.demo.mri.simulate_patient`'s
    series; b0 is the T2 axial volume resampled onto the DWI geometry (b=0
    images are T2-weighted; resampling costs a fraction of rendering), T1 an
    inverted T2, ADC = ln(b0 / b1000) / 1000 in 10^-6 mm^2/s, the localizer
    the middle T2 axial and sagittal slices.
    """
    simulated, latent = simulate_patient(seed, index, sarcoma)
    out = {role: (geom, pixels) for role, (geom, pixels, _) in simulated.items()}
    masses = {role: mass for role, (_, _, mass) in simulated.items()}
    dwi_geom, b1000 = out["DWI"]
    b0 = _resample(*out["T2axi"], dwi_geom)
    out["b0"] = (dwi_geom, b0)
    out["ADC"] = (dwi_geom, np.clip(np.log(np.maximum(b0, 1.0) / np.maximum(b1000, 1.0)) / 1000 * 1e6, 0, 4000))
    t2 = out["T2axi"][1]
    out["T1"] = (out["T2axi"][0], np.clip(float(np.percentile(t2, 99)) - t2, 0, None))
    for role in ("T2axi", "T2sag"):
        g, px = out[role]
        mid = g.n_slices // 2
        out[f"loc_{role}"] = (dataclasses.replace(g, n_slices=1), px[mid : mid + 1])
    return out, latent, masses


def _resample(geom: SeriesGeometry, pixels: np.ndarray, onto: SeriesGeometry) -> np.ndarray:
    """pixels (n, rows, cols) of one stack trilinearly resampled onto another stack's pixel centres (edge: nearest)."""
    from scipy.ndimage import map_coordinates

    pts = np.concatenate([onto.points(k) for k in range(onto.n_slices)]) - geom.origin(0)
    axes = np.stack(
        [
            geom.normal * geom.step_mm,
            np.asarray(geom.col_dir) * geom.spacing_mm,
            np.asarray(geom.row_dir) * geom.spacing_mm,
        ]
    )
    idx = np.linalg.solve(axes.T, pts.T)  # (slice, row, col) index of every target point
    out = map_coordinates(pixels.astype(np.float32), idx, order=1, mode="nearest")
    return out.reshape(onto.n_slices, onto.rows, onto.cols)


def _ima_name(patient_id: str, info: SeriesInfo, first: int) -> Callable[[int, str], str]:
    """Siemens-style ``<PATIENT>.MR.<TAG>.<SERIES>.<NO>.IMA``."""
    tag = info.description.split()[0].upper()
    return lambda k, _sop: f"{patient_id}.MR.{tag}.{info.series_number:04d}.{first + k:04d}.IMA"


def _storescp_name(k: int, sop_uid: str) -> str:
    return f"MR.{sop_uid}"


def write_patient(job: tuple[Path, int, int, bool]) -> tuple[str, dict, dict[str, np.ndarray], dict[str, int]]:
    """Write one patient's folder of the export (a pure function of seed and index).

    Returns (PatientID, latent features, {role: mass membership}, {role: InstanceNumber of its first slice}).
    """
    export_dir, seed, i, sarcoma = job
    patient = _patient_tags(seed, i)
    folder = export_dir / patient["id"]
    study_uid, frame_uid = demo_uid(seed, NAME, i, "study"), demo_uid(seed, NAME, i, "frame")
    series, latent, masses = render_patient(seed, i, sarcoma)

    def put(name: str, info: SeriesInfo, key: str, **kw) -> None:
        geom, px = series[name]
        write_series(
            folder,
            px,
            geom,
            info,
            patient=patient,
            study_uid=study_uid,
            frame_uid=frame_uid,
            uid_key=(seed, NAME, "export", i, key),
            **kw,
        )

    pid = patient["id"]
    for name, info in (("T2axi", SERIES_INFO["T2axi"]), ("T2sag", SERIES_INFO["T2sag"])):
        put(name, info, name, file_name=_ima_name(pid, info, 1))
    for name in ("T1", "ADC"):
        put(name, OTHER_INFO[name], name, file_name=_ima_name(pid, OTHER_INFO[name], 1))
    # One localizer series with an axial and a sagittal image.
    loc_uid = demo_uid(seed, NAME, "export", i, "loc", "series")
    put("loc_T2axi", OTHER_INFO["loc"], "loc_axi", series_uid=loc_uid, file_name=_ima_name(pid, OTHER_INFO["loc"], 1))
    put(
        "loc_T2sag",
        OTHER_INFO["loc"],
        "loc_sag",
        series_uid=loc_uid,
        first_instance=2,
        file_name=_ima_name(pid, OTHER_INFO["loc"], 2),
    )
    # One DWI series: b=0 images 1..n, then b=1000 images n+1..2n at the same positions, storescp names.
    dwi_uid = demo_uid(seed, NAME, "export", i, "DWI", "series")
    n_dwi = series["DWI"][0].n_slices
    put("b0", DWI_INFO[0], "DWI_b0", series_uid=dwi_uid, file_name=_storescp_name)
    put("DWI", DWI_INFO[1000], "DWI_b1000", series_uid=dwi_uid, first_instance=n_dwi + 1, file_name=_storescp_name)
    return pid, latent, masses, {"T2axi": 1, "T2sag": 1, "DWI": n_dwi + 1}


def write_mri_export(export_dir: Path, seed: int = DEFAULT_SEED, n: int = 12) -> list[tuple]:
    """Write the export, one folder per patient, patients in parallel (``study.demo.mri._map``).

    Returns per patient (PatientID, truth "0"/"1", latent, masses, first instance per role), in patient order.
    """
    export_dir = Path(export_dir)
    labels = exact_labels(rng_for(seed, NAME), n, [1 - SARCOMA_FRACTION, SARCOMA_FRACTION])
    jobs = [(export_dir, seed, i, bool(labels[i])) for i in range(n)]
    return [
        (pid, str(int(labels[i])), latent, masses, first)
        for i, (pid, latent, masses, first) in enumerate(mri._map(write_patient, jobs))
    ]


def hard_link_volume(volume: Volume, folder: Path) -> None:
    """``folder`` holds the volume's files as hard links (copies where links fail): a movable study, no extra space."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, src in enumerate(volume.files):
        dst = folder / f"{k + 1:05d}.dcm"
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def assemble_study(study_dir: Path, export_dir: Path, seed: int, n: int) -> tuple[BuildResult, list[tuple]]:
    """Write the export and build the study from it with ``DEMO_RULES`` (``readerstudy new --from-dicom``'s path).

    The rules and truth files go beside the study folder's matches.csv as
    ``intake-rules.toml`` and ``intake-truth.csv``.
    """
    patients = write_mri_export(export_dir, seed, n)
    study_dir.mkdir(parents=True, exist_ok=True)
    rules, truth_csv = study_dir / "intake-rules.toml", study_dir / "intake-truth.csv"
    rules.write_text(DEMO_RULES, encoding="utf-8")
    truth_csv.write_text("PatientID,truth\n" + "".join(f"{p[0]},{p[1]}\n" for p in patients), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="readerstudy-demo-index-") as tmp:
        result = build_from_dicom(
            study_dir,
            export_dir,
            truth_csv,
            rules_toml=rules,
            seed=seed,
            labels=("leiomyoma", "sarcoma"),
            materialize=lambda volume, folder, _code: hard_link_volume(volume, folder),
            index_path=Path(tmp) / INDEX,  # a throw-away index: not the user's cache, not the study folder
        )
    return result, patients


def build_mri_study(study_dir: Path, seed: int = DEFAULT_SEED, n: int | None = None) -> Path:
    """The MRI demo study, built from its PACS-like export (``study_dir/EXPORT``) by DEMO_RULES.

    Besides what ``readerstudy new --from-dicom`` writes (study.toml with the
    rules, matches.csv, intake-key.csv, media/CODE/ROLE as hard links into the
    export, cases.csv), the demo's own protocol (title, task, groups, model)
    replaces the generic one, and ``lesions.csv`` / ``latent.csv`` hold the
    truth side files keyed by the case codes the intake gave.  The export's
    index (a cache) is kept in a throw-away folder so the study folder is a pure function of the seed.
    Raises StudyError if the rules leave anything to decide (they never should).
    """
    n = mri.DEFAULT_N if n is None else n
    study_dir = prepare_study_dir(Path(study_dir))
    result, patients = assemble_study(study_dir, study_dir / EXPORT, seed, n)
    if not result.wrote_cases:
        raise StudyError([f"{study_dir}: the demo rules left cells to decide: {line}" for line in result.flagged])
    base = mri.protocol(seed)
    write_protocol(
        study_dir,
        dataclasses.replace(base, hanging=dataclasses.replace(base.hanging, match=result.protocol.hanging.match)),
    )
    by_patient = {p[0]: p for p in patients}
    lesions, latents = [], []
    for cm in result.cases:
        _, _, latent, masses, first = by_patient[cm.unit.patient_id]
        latents.append(dict(case_id=cm.code, label="sarcoma" if cm.truth == "1" else "leiomyoma", **latent))
        for role in ROLES:
            for box in mri._boxes(cm.code, role, masses[role]):
                lesions.append(box | {"instance": first[role] + box["frame"]})
    write_csv(
        study_dir / "lesions.csv",
        mri.LESION_COLUMNS,
        sorted(lesions, key=lambda r: (r["case_id"], r["role"], r["frame"])),
    )
    write_csv(study_dir / "latent.csv", list(latents[0]), sorted(latents, key=lambda r: r["case_id"]))
    write_demo_json(
        study_dir,
        NAME,
        seed,
        n,
        positive_fraction=SARCOMA_FRACTION,
        files={
            "lesions.csv": "mass bounding box per slice: frame = index in position order "
            "(the media layer's slice order), instance = its InstanceNumber; rows/cols end exclusive",
            "latent.csv": "generating parameters per case",
            EXPORT: "the PACS-like export the study was built from (readerstudy new --from-dicom, "
            "rules in study.toml and intake-rules.toml, choices in matches.csv)",
        },
    )
    return study_dir


def build_mri_from_export(study_dir: Path, export_dir: Path, seed: int = DEFAULT_SEED, n: int = 12) -> BuildResult:
    """Write the export into a new folder and build a study from it by DEMO_RULES (nothing else)."""
    study_dir, export_dir = Path(study_dir), Path(export_dir)
    if export_dir.exists():
        raise FileExistsError(f"{export_dir}: exists; give a new folder for the export")
    return assemble_study(study_dir, export_dir, seed, n)[0]


def main(argv: list[str] | None = None) -> int:
    """``python -m study.demo.mri_export OUT_DIR [--n 12] [--seed S]``: export + study built from it."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m study.demo.mri_export", description=main.__doc__)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    result = build_mri_from_export(args.out_dir / "mri-from-export", args.out_dir / "mri-export", args.seed, args.n)
    print(
        f"{args.out_dir / 'mri-export'}: {result.index.n_dicom} DICOM files; {args.out_dir / 'mri-from-export'}: "
        f"{len(result.cases)} cases, cases.csv {'written' if result.wrote_cases else 'NOT written'}"
    )
    for line in result.flagged:
        print(f"decide: {line}")
    return 0 if result.wrote_cases else 1


if __name__ == "__main__":
    raise SystemExit(main())
