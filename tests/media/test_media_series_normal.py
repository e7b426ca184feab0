"""A series reports its slice-plane normal so axial and sagittal series that
share a frame of reference are not synchronized by position."""

import numpy as np
import pydicom
from pydicom.data import get_testdata_file

from study.media import load


def _write_series(folder, iop, n=4):
    folder.mkdir()
    src = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    normal = np.cross(iop[:3], iop[3:])
    for i in range(n):
        ds = src.copy()
        ds.ImageOrientationPatient = [float(v) for v in iop]
        ds.ImagePositionPatient = [float(v) for v in normal * 5.0 * i]
        ds.InstanceNumber = i + 1
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.save_as(folder / f"s{i}.dcm")


def test_axial_and_sagittal_series_report_their_normals(tmp_path):
    _write_series(tmp_path / "axi", np.array([1, 0, 0, 0, 1, 0.0]))
    _write_series(tmp_path / "sag", np.array([0, 1, 0, 0, 0, -1.0]))
    axi, sag = load(tmp_path / "axi"), load(tmp_path / "sag")
    assert np.allclose(axi.slice_normal, (0, 0, 1)) and np.allclose(sag.slice_normal, (-1, 0, 0))
    assert axi.slice_positions == (0.0, 5.0, 10.0, 15.0) and sag.slice_positions == (0.0, 5.0, 10.0, 15.0)
    assert load(get_testdata_file("CT_small.dcm")).slice_normal is None  # a single image has none
