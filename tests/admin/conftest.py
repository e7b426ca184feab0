"""Fixtures of the admin tests: real PNG case folders (scikit-image's data) and truth tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import skimage
from PIL import Image

from tests.regionstudy import disc_stack, synthetic_photo, write_mr_series

DATA = Path(skimage.__file__).parent / "data"
PNGS = ("camera.png", "coins.png", "moon.png", "page.png", "text.png", "horse.png", "cell.png", "phantom.png")


@pytest.fixture
def photo_folder(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): eight one-image cases C001..C008, alternating truth."""
    media = tmp_path / "media"
    media.mkdir()
    lines = ["case_id,truth,patient_id"]
    for i, name in enumerate(PNGS, start=1):
        shutil.copy(DATA / name, media / f"C{i:03d}.png")
        lines.append(f"C{i:03d},{i % 2},P{(i + 1) // 2}")
    truth = tmp_path / "truth.csv"
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return media, truth


@pytest.fixture
def two_role_folder(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): four cases, each a folder with T2.png and DWI.png; 3-class truth."""
    media = tmp_path / "mri"
    lines = ["case_id,truth"]
    for i in range(4):
        case = media / f"M{i + 1}"
        case.mkdir(parents=True)
        shutil.copy(DATA / PNGS[i], case / "T2.png")
        shutil.copy(DATA / PNGS[i + 4], case / "DWI.png")
        lines.append(f"M{i + 1},{('normal', 'CIN1', 'CIN2+')[i % 3]}")
    truth = tmp_path / "truth3.csv"
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return media, truth


ADMIN_PASSWORD = "admin-secret"


@pytest.fixture
def photo_study(tmp_path, photo_folder) -> Path:
    """A sequential binary study (28-day washout) made by the wizard, with its admin password."""
    from study import wizard

    media, truth = photo_folder
    s = wizard.scan(media, truth)
    study = tmp_path / "study"
    wizard.write_study(
        study,
        wizard.StudySettings(study_id="photos", seed=5, groups=("specialist", "resident")),
        s.roles,
        s.cases,
        admin_password=ADMIN_PASSWORD,
    )
    return study


@pytest.fixture
def finish_session():
    """finish_session(engine, reader, index): submit an answer for every case of the session."""
    from datetime import timedelta

    from study.engine import ReadSubmission

    def run(engine, reader: str, index: int) -> None:
        session = engine.start(reader, index)
        while (item := session.next_item()) is not None:
            t = engine.clock()
            truth = engine.case(item.case_id).truth
            session.submit(ReadSubmission(item.case_id, truth, t - timedelta(seconds=30), t, 30_000, confidence=80.0))
        session.close()

    return run


def make_tiny_model(
    folder: Path,
    role: str = "image",
    head: str = "binary",
    labels: tuple[str, ...] = ("negative", "positive"),
    positive: tuple[str, ...] = (),
) -> Path:
    """A real (untrained, seeded) MobileNetV2 spec reading one role: small and fast on CPU."""
    import tomllib

    import torch

    from inference.network import build_network
    from inference.spec import file_sha256, parse_spec

    folder.mkdir(parents=True)

    def quoted(items) -> str:
        return ", ".join(f'"{x}"' for x in items)

    model = (
        f'[model]\nname = "tiny test model"\narchitecture = "mobilenet_v2"\nwidth_mult = 0.25\n'
        f'head = "{head}"\nlabels = [{quoted(labels)}]\n'
        + (f"positive = [{quoted(positive)}]\n" if positive else "")
        + 'input_size = [48, 48]\nchannels = 3\nwindow = "minmax"\n\n[cam]\nmethod = "gradcam"\nsize = 32\n'
    )
    spec0 = parse_spec(
        {**tomllib.loads(model), "members": [{"role": role, "weights": f"{role}.pt", "sha256": "0" * 64}]},
        folder / "model.toml",
        check_files=False,
    )
    torch.manual_seed(0)
    torch.save(build_network(spec0).state_dict(), folder / f"{role}.pt")
    text = (
        model
        + f'\n[[members]]\nrole = "{role}"\nweights = "{role}.pt"\nsha256 = "{file_sha256(folder / f"{role}.pt")}"\n'
    )
    (folder / "model.toml").write_text(text, encoding="utf-8")
    return folder / "model.toml"


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    """A real (untrained, seeded) binary MobileNetV2 spec for the 'image' role."""
    return make_tiny_model(tmp_path / "model")


@pytest.fixture
def themed(qapp):
    """The app's own theme (resources/style.qss), so tests can check colours; removed afterwards."""
    from app.reading.theme import apply_theme

    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet("")


@pytest.fixture
def region_photos(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): three photos O1..O3 with 0/1 truth; masks in ``truth/`` beside the
    truth table, named in its ``truth_mask`` column relative to the table."""
    media, masks = tmp_path / "photos", tmp_path / "tables" / "truth"
    media.mkdir()
    masks.mkdir(parents=True)
    lines = ["case_id,truth,patient_id,truth_mask"]
    for i in range(3):
        img, mask = synthetic_photo(96, 20 + 3 * i, seed=i)
        Image.fromarray(img).save(media / f"O{i + 1}.png")
        Image.fromarray(mask.astype(np.uint8) * 255).save(masks / f"O{i + 1}.png")
        lines.append(f"O{i + 1},{i % 2},P{i},truth/O{i + 1}.png")
    truth = tmp_path / "tables" / "truth.csv"
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return media, truth


@pytest.fixture
def region_series(tmp_path) -> tuple[Path, Path]:
    """(media_dir, truth_csv): two MR series S1, S2 (a folder of 4 DICOM slices each) with (4, 64, 64)
    .npy truth stacks; no combined question (empty truth)."""
    media, masks = tmp_path / "export", tmp_path / "masks"
    masks.mkdir()
    lines = ["case_id,truth,truth_mask"]
    for i in range(2):
        write_mr_series(media / f"S{i + 1}", n=4, seed=i)
        np.save(masks / f"S{i + 1}.npy", disc_stack(4, 64, {1: (30, 30, 8), 2: (30, 30, 10)}))
        lines.append(f"S{i + 1},,{masks / f'S{i + 1}.npy'}")  # absolute paths are fine too
    truth = tmp_path / "truth.csv"
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return media, truth
