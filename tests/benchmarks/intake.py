"""DICOM index speed: ``python -m tests.benchmarks.intake`` prints one JSON line.

Writes an export of ``--files`` single-frame MR slices (default 5,000: 100
series of 50 slices, 64 x 64, Siemens-style private tags, files named
``MR.<UID>`` without suffix, 10 series per folder) into a temporary folder, then
measures in the same run, best of ``--reps`` after a warm-up that fills the OS
file cache:

* ``baseline_s``: a plain pydicom loop: walk the folder, ``dcmread(path,
  stop_before_pixels=True)`` every file;
* ``index_s``: ``study.intake.index.index_export`` into a fresh index file
  (content sniffing, header summary, truncation check, grouping into volumes,
  writing the kept SQLite index);
* ``ratio``: index_s / baseline_s (budget <= 1.2, DESIGN.md), wall-clock;
* ``ratio_cpu``: the same from this process's CPU time (``time.process_time``),
  less disturbed when other jobs share the machine's cores;
* ``rerun_s``: a second ``index_export`` on the kept index (nothing new to read).

A benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from study.intake.index import index_export


def write_export(root: Path, n_files: int, per_series: int = 50, series_per_folder: int = 10) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    pixels = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64).tobytes()
    for k in range(n_files):
        s, i = divmod(k, per_series)
        if i == 0:
            series_uid, study_uid = generate_uid(), f"1.2.826.0.1.3680043.8.498.{s // 5 + 1}"
        sop = generate_uid()
        meta.MediaStorageSOPInstanceUID = sop
        ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, sop
        ds.PatientID, ds.PatientName, ds.PatientBirthDate = f"P{s // 5:03d}", "Doe^Jane", "19700101"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.AccessionNumber = study_uid, series_uid, f"A{s // 5}"
        ds.StudyDate, ds.StudyTime, ds.Modality, ds.SeriesNumber = "20240115", "093000", "MR", s % 5 + 1
        ds.SeriesDescription = ds.ProtocolName = ("t2_tse_tra", "t2_tse_sag", "ep2d_diff", "t1_vibe", "loc")[s % 5]
        ds.SequenceName, ds.InstanceNumber, ds.ImageType = "*tse2d1_15", i + 1, ["ORIGINAL", "PRIMARY", "M", "ND"]
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0.0, 0.0, 3.0 * i]
        ds.PixelSpacing, ds.SliceThickness, ds.EchoTime, ds.RepetitionTime = [0.7, 0.7], 3.0, 96.0, 4000.0
        ds.add_new((0x0019, 0x0010), "LO", "SIEMENS MR HEADER")
        ds.add_new((0x0019, 0x100C), "IS", "1000" if s % 5 == 2 else "0")
        ds.add_new((0x0029, 0x0010), "LO", "SIEMENS CSA HEADER")
        ds.add_new((0x0029, 0x1010), "OB", os.urandom(6000))  # CSA image header, as Siemens writes
        ds.Rows = ds.Columns = 64
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels
        folder = root / f"S{s // series_per_folder:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        ds.save_as(folder / f"MR.{sop}", enforce_file_format=True)


def baseline(root: Path) -> int:
    n = 0
    for folder, _, names in os.walk(root):
        for name in names:
            pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        export, work = Path(tmp) / "export", Path(tmp) / "work"
        work.mkdir()
        t = time.perf_counter()
        write_export(export, args.files)
        build_s = time.perf_counter() - t
        assert baseline(export) == args.files  # warm-up: OS file cache
        base, ours, base_cpu, ours_cpu = [], [], [], []
        for r in range(args.reps):  # interleaved so drift hits both alike
            t, c = time.perf_counter(), time.process_time()
            baseline(export)
            base.append(time.perf_counter() - t)
            base_cpu.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            idx = index_export(export, work / f"index{r}.sqlite")
            ours.append(time.perf_counter() - t)
            ours_cpu.append(time.process_time() - c)
            assert idx.n_dicom == args.files and not idx.broken
        t = time.perf_counter()
        again = index_export(export, work / "index0.sqlite")
        rerun = time.perf_counter() - t
        assert again.n_read == 0
        result = {
            "benchmark": "intake_index",
            "files": args.files,
            "build_export_s": round(build_s, 2),
            "baseline_s": round(min(base), 3),
            "index_s": round(min(ours), 3),
            "ratio": round(min(ours) / min(base), 3),
            "baseline_cpu_s": round(min(base_cpu), 3),
            "index_cpu_s": round(min(ours_cpu), 3),
            "ratio_cpu": round(min(ours_cpu) / min(base_cpu), 3),
            "rerun_s": round(rerun, 3),
            "volumes": len(idx.volumes),
            "budget": 1.2,
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
