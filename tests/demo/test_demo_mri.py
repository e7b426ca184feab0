"""The MRI demo study: protocol, case table, DICOM correctness and geometry,
lesion boxes, determinism and a real but imperfect imaging signal."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

from study.cases import load_cases
from study.demo.dicom_writer import SeriesGeometry, _SeriesEncoder, demo_uid, ds_str, slice_dataset
from study.demo.labels import read_latent, read_lesions
from study.demo.mri import ROLES, SAGITTAL, SERIES_INFO, build_mri, simulate_patient
from study.media import load
from study.protocol import load_protocol
from tests.demo.conftest import SEED
from tests.demo.helpers import auc, tree_digest


@pytest.fixture(scope="module")
def mri(small_study):
    return small_study("mri")


def _series(folder):
    return [pydicom.dcmread(f) for f in sorted(folder.glob("*.dcm"))]


def test_protocol_and_cases(mri):
    p = load_protocol(mri)
    assert (p.design, p.washout_days, p.groups) == ("sequential", 28, ("specialist", "resident"))
    assert (p.task.kind, p.task.labels, p.task.confidence) == ("binary", ("leiomyoma", "sarcoma"), "0-100")
    assert (p.hanging.roles, p.hanging.sync, p.seed) == (ROLES, "position", SEED)
    assert p.model_spec == "models/mri/model.toml"
    cases = load_cases(mri, p)
    assert len(cases) == 12
    assert sum(c.truth == "1" for c in cases) == 3  # 25% sarcoma, exactly
    assert len({c.patient_id for c in cases}) == 12
    for c in cases:
        assert c.case_id.startswith("C") and c.case_id[1:].isdigit()
        assert set(c.media) == set(ROLES)


def test_dicom_tags_uids_and_frame_of_reference(mri):
    p = load_protocol(mri)
    sop_uids, series_uids, study_uids, frames = set(), set(), set(), set()
    for case in load_cases(mri, p):
        per_patient_study, per_patient_frame = set(), set()
        for role in ROLES:
            dss = _series(mri / case.media[role])
            assert len(dss) == 16
            assert len({ds.SeriesInstanceUID for ds in dss}) == 1
            for ds in dss:
                assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
                assert ds.SOPClassUID == MRImageStorage == ds.file_meta.MediaStorageSOPClassUID
                assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
                assert (ds.Modality, ds.PhotometricInterpretation, ds.BitsAllocated) == ("MR", "MONOCHROME2", 16)
                assert ds.pixel_array.dtype == np.uint16 and ds.pixel_array.shape == (ds.Rows, ds.Columns)
                assert ds.SeriesDescription and ds.WindowWidth > 0 and ds.RescaleSlope > 0
                assert str(ds.PatientName).startswith("DEMO^") and case.case_id not in str(ds.PatientName)
                sop_uids.add(ds.SOPInstanceUID)
            series_uids.add(dss[0].SeriesInstanceUID)
            per_patient_study |= {ds.StudyInstanceUID for ds in dss}
            per_patient_frame |= {ds.FrameOfReferenceUID for ds in dss}
        assert len(per_patient_study) == 1 and len(per_patient_frame) == 1
        study_uids |= per_patient_study
        frames |= per_patient_frame
    assert len(sop_uids) == 12 * 3 * 16
    assert len(series_uids) == 12 * 3
    assert len(study_uids) == len(frames) == 12


def test_geometry_axial_sagittal_and_slice_order(mri):
    case = load_cases(mri, load_protocol(mri))[0]
    for role in ROLES:
        dss = _series(mri / case.media[role])
        iop = np.array(dss[0].ImageOrientationPatient, float)
        normal = np.cross(iop[:3], iop[3:])
        expected = [0, 0, 1] if role in ("T2axi", "DWI") else [-1, 0, 0]
        np.testing.assert_allclose(normal, expected, atol=1e-9)
        pos = np.array([np.dot(np.array(ds.ImagePositionPatient, float), normal) for ds in dss])
        # Instance numbers ascend with position (the DWI's b=1000 images follow its b=0 images in one series).
        first = 17 if role == "DWI" else 1
        assert [ds.InstanceNumber for ds in dss] == list(range(first, first + 16))
        np.testing.assert_allclose(np.diff(pos), float(dss[0].SpacingBetweenSlices), atol=1e-3)
        assert float(dss[0].SpacingBetweenSlices) >= float(dss[0].SliceThickness)
        # Every slice's origin projects onto the same in-plane point: a straight stack.
        inplane = [np.array(ds.ImagePositionPatient, float) - p * normal for ds, p in zip(dss, pos)]
        np.testing.assert_allclose(inplane, np.repeat(inplane[:1], len(inplane), 0), atol=1e-3)
        np.testing.assert_allclose([float(ds.SliceLocation) for ds in dss], pos, atol=1e-3)


def test_lesion_boxes_contain_the_mass_centre_in_every_series(mri):
    """From DICOM tags alone, the mass centre maps into the box on its slice."""
    latent, lesions = read_latent(mri), read_lesions(mri)
    for case in load_cases(mri, load_protocol(mri)):
        centre = np.array([float(latent[case.case_id][k]) for k in ("mass_x", "mass_y", "mass_z")])
        for role in ROLES:
            dss = _series(mri / case.media[role])
            iop = np.array(dss[0].ImageOrientationPatient, float)
            rdir, cdir = iop[:3], iop[3:]
            normal = np.cross(rdir, cdir)
            pos = [np.dot(np.array(ds.ImagePositionPatient, float), normal) for ds in dss]
            k = int(np.argmin(np.abs(np.array(pos) - centre @ normal)))
            d = centre - np.array(dss[k].ImagePositionPatient, float)
            sp = [float(v) for v in dss[k].PixelSpacing]
            row, col = d @ cdir / sp[0], d @ rdir / sp[1]
            boxes = {b.frame: b for b in lesions[(case.case_id, role)]}
            assert k in boxes and boxes[k].contains(row, col), (case.case_id, role)
            b = boxes[k]
            assert b.row1 - b.row0 >= 3 and b.col1 - b.col0 >= 3


def test_media_layer_reads_series_in_one_frame_of_reference(mri):
    case = load_cases(mri, load_protocol(mri))[0]
    media = {role: load(case.media[role]) for role in ROLES}
    assert {m.kind for m in media.values()} == {"series"}
    assert len({m.frame_of_reference for m in media.values()}) == 1
    assert media["T2axi"].frames.shape == (16, 128, 128) and media["DWI"].frames.shape == (16, 96, 96)
    assert media["DWI"].spacing == (3.375, 3.375)
    # Frame k is IM{k+1} (lesions.csv frames index both), and DWI stores value / 0.5:
    # the media layer must give back modality units.
    for role, slope in (("T2sag", 1.0), ("T2axi", 1.0), ("DWI", 0.5)):
        for k, ds in enumerate(_series(mri / case.media[role])):
            np.testing.assert_allclose(media[role].frames[k], ds.pixel_array * slope)
    # Axial series overlap in position, so position sync has something to align.
    a, d = media["T2axi"].slice_positions, media["DWI"].slice_positions
    assert max(a[0], d[0]) < min(a[-1], d[-1])


def test_fast_encoder_writes_what_pydicom_writes():
    g = SeriesGeometry(24, 20, 3.375, 5.0, 6.0, 4, *SAGITTAL, (1.5, -2.0, 12.3))
    stored = np.random.default_rng(0).integers(0, 4000, (4, 24, 20)).astype("<u2")
    patient = dict(
        name="DEMO^0001",
        id="DEMO0001",
        birth_date="19700101",
        study_date="20250101",
        study_time="080000",
        accession="A1",
    )
    kw = dict(
        patient=patient,
        study_uid=demo_uid("t", 1),
        series_uid=demo_uid("t", 2),
        frame_uid=demo_uid("t", 3),
        window=(100.0, 200.5),
    )
    enc = _SeriesEncoder(slice_dataset(0, stored[0], g, SERIES_INFO["DWI"], sop_uid=demo_uid("s", 0), **kw))
    for k in range(4):
        ds = slice_dataset(k, stored[k], g, SERIES_INFO["DWI"], sop_uid=demo_uid("s", k), **kw)
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        o = g.origin(k)
        fast = enc.encode(demo_uid("s", k), k + 1, [ds_str(v) for v in o], ds_str(o @ g.normal), stored[k].tobytes())
        assert fast == buf.getvalue()


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = tree_digest(build_mri(tmp_path / "a", seed=11, n=3))
    b = tree_digest(build_mri(tmp_path / "b", seed=11, n=3))
    c = tree_digest(build_mri(tmp_path / "c", seed=12, n=3))
    assert a == b
    assert a["latent.csv"] != c["latent.csv"] and a["matches.csv"] != c["matches.csv"]
    dcm = [k for k in a if k.endswith(".dcm")]
    assert len(dcm) == 3 * 3 * 16
    # Only files that need not depend on the seed may agree: the rules, and cases.csv and intake-truth.csv
    # (codes C0001-C0003 and DEMO0001-DEMO0003
    # with one sarcoma among three: three possible tables each).
    same = {k for k, v in set(a.items()) & set(c.items())}
    assert same <= {"study.toml", "intake-rules.toml", "cases.csv", "intake-truth.csv"}, same


def test_rebuild_refuses_to_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError):
        build_mri(tmp_path / "x", seed=1, n=1)
    assert (tmp_path / "x" / "mine.txt").read_text() == "keep"


def test_dwi_signal_in_the_mass_separates_classes_but_not_perfectly():
    """Mean DWI in the mass: a real, learnable signal that is not a giveaway."""
    scores, labels = [], []
    for i in range(40):
        sarcoma = i % 4 == 0
        series, _ = simulate_patient(SEED, i, sarcoma, roles=("DWI",))
        _, pixels, mass = series["DWI"]
        scores.append(pixels[mass >= 0.5].mean())
        labels.append(sarcoma)
    assert 0.7 <= auc(scores, labels) <= 0.99
