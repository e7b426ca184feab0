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

``build_mri_from_export`` then makes the study with ``DEMO_RULES``
(``study.intake.build``): T2axi, T2sag and DWI at the highest b-value.
The folder-per-role demo (:func:`study.demo.mri.build_mri`) is unchanged.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pydicom

from study.demo.common import DEFAULT_SEED, exact_labels, rng_for
from study.demo.dicom_writer import SeriesInfo, demo_uid, write_series
from study.demo.mri import (
    NAME,
    ROLES,
    SARCOMA_FRACTION,
    SERIES_INFO,
    _geometries,
    _patient_tags,
    _pelvis,
    render_series,
)
from study.intake.build import BuildResult, build_from_dicom

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


def render_patient(seed: int, index: int, sarcoma: bool) -> dict[str, tuple]:
    """name -> (geometry, pixels) for every series of one patient's export."""
    prng = rng_for(seed, NAME, "patient", index)  # the same stream as simulate_patient: identical T2/DWI
    pelvis, _ = _pelvis(prng, sarcoma)
    geoms = _geometries(prng, pelvis.mass.center)
    out = {role: (geoms[role], render_series(pelvis, geoms[role], role, prng)[0]) for role in ROLES}
    extra = rng_for(seed, NAME, "export", index)
    b0 = render_series(pelvis, geoms["DWI"], "T2axi", extra)[0]
    b1000 = out["DWI"][1]
    out["b0"] = (geoms["DWI"], b0)
    out["ADC"] = (geoms["DWI"], np.clip(np.log(np.maximum(b0, 1.0) / np.maximum(b1000, 1.0)) / 1000 * 1e6, 0, 4000))
    t2 = out["T2axi"][1]
    out["T1"] = (geoms["T2axi"], np.clip(float(np.percentile(t2, 99)) - t2, 0, None))
    for role in ("T2axi", "T2sag"):
        g, px = out[role]
        mid = g.n_slices // 2
        out[f"loc_{role}"] = (dataclasses.replace(g, n_slices=1), px[mid : mid + 1])
    return out


def _retag(paths: list[Path], series_uid: str, first_instance: int) -> None:
    """Put separately written images into one series (a DWI's b-values, a localizer's planes)."""
    for k, p in enumerate(paths):
        ds = pydicom.dcmread(p)
        ds.SeriesInstanceUID = series_uid
        ds.InstanceNumber = first_instance + k
        ds.save_as(p, enforce_file_format=True)


def _write_patient(folder: Path, seed: int, i: int, sarcoma: bool, patient: dict) -> None:
    study_uid, frame_uid = demo_uid(seed, NAME, i, "study"), demo_uid(seed, NAME, i, "frame")
    series = render_patient(seed, i, sarcoma)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:

        def put(name: str, info: SeriesInfo, key: tuple) -> list[Path]:
            geom, px = series[name]
            return write_series(
                Path(tmp) / name,
                px,
                geom,
                info,
                patient=patient,
                study_uid=study_uid,
                frame_uid=frame_uid,
                uid_key=(seed, NAME, "export", i, *key),
            )

        written = {
            "T2axi": put("T2axi", SERIES_INFO["T2axi"], ("T2axi",)),
            "T2sag": put("T2sag", SERIES_INFO["T2sag"], ("T2sag",)),
            "T1": put("T1", OTHER_INFO["T1"], ("T1",)),
            "ADC": put("ADC", OTHER_INFO["ADC"], ("ADC",)),
        }
        dwi = put("b0", DWI_INFO[0], ("DWI", 0)) + put("DWI", DWI_INFO[1000], ("DWI", 1000))
        _retag(dwi, demo_uid(seed, NAME, "export", i, "DWI", "series"), 1)
        loc = put("loc_T2axi", OTHER_INFO["loc"], ("loc", "axi")) + put("loc_T2sag", OTHER_INFO["loc"], ("loc", "sag"))
        _retag(loc, demo_uid(seed, NAME, "export", i, "loc", "series"), 1)
        for name, paths in (*written.items(), ("loc", loc)):
            info = OTHER_INFO.get(name) or SERIES_INFO[name]
            tag = info.description.split()[0].upper()
            for k, p in enumerate(paths):
                p.rename(folder / f"{patient['id']}.MR.{tag}.{info.series_number:04d}.{k + 1:04d}.IMA")
        for p in dwi:
            sop = pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID
            p.rename(folder / f"MR.{sop}")


def write_mri_export(export_dir: Path, seed: int = DEFAULT_SEED, n: int = 12) -> dict[str, str]:
    """Write the export; return {PatientID: truth (0/1)}."""
    export_dir = Path(export_dir)
    labels = exact_labels(rng_for(seed, NAME), n, [1 - SARCOMA_FRACTION, SARCOMA_FRACTION])
    truth = {}
    for i in range(n):
        patient = _patient_tags(seed, i)
        truth[patient["id"]] = str(int(labels[i]))
        _write_patient(export_dir / patient["id"], seed, i, bool(labels[i]), patient)
    return truth


def build_mri_from_export(study_dir: Path, export_dir: Path, seed: int = DEFAULT_SEED, n: int = 12) -> BuildResult:
    """Write the export (if absent) and build the MRI demo study from it by DEMO_RULES."""
    study_dir, export_dir = Path(study_dir), Path(export_dir)
    truth = write_mri_export(export_dir, seed, n) if not export_dir.exists() else None
    if truth is None:
        raise FileExistsError(f"{export_dir}: exists; give a new folder for the export")
    study_dir.mkdir(parents=True, exist_ok=True)
    (study_dir.parent / f"{study_dir.name}-rules.toml").write_text(DEMO_RULES, encoding="utf-8")
    truth_csv = study_dir.parent / f"{study_dir.name}-truth.csv"
    truth_csv.write_text("PatientID,truth\n" + "".join(f"{k},{v}\n" for k, v in truth.items()), encoding="utf-8")
    return build_from_dicom(
        study_dir,
        export_dir,
        truth_csv,
        rules_toml=study_dir.parent / f"{study_dir.name}-rules.toml",
        seed=seed,
        labels=("leiomyoma", "sarcoma"),
    )


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
