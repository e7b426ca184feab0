"""Screenshots of every admin screen with demo data (run under Xvfb; not a test).

    xvfb-run -a .venv/bin/python tests/admin/shoot.py [--out screenshots/admin]

Builds a fresh MRI demo study with ``study.demo`` (in --work), uses the MRI demo
model when one exists, and a seeded simulation of the uterine-sarcoma reader
study for the dashboard.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from app.reading.theme import ensure_application  # noqa: E402

SIZE = (1440, 900)
PASSWORD = "demo-admin"


def wait_for(signal, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def grab(widget, out: Path, name: str) -> None:
    widget.resize(*SIZE)
    widget.show()
    settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print("wrote", path)


def model_spec(study: Path) -> Path | None:
    """The MRI demo model, copied to where the demo's study.toml expects it (models/mri)."""
    for candidate in (
        ROOT / "demo-studies/mri/models/mri",
        ROOT / "resources/models/mri",
        Path("/tmp/inf/smoke_models/mri"),
    ):
        if (candidate / "model.toml").is_file():
            dest = study / "models" / "mri"
            shutil.copytree(candidate, dest, dirs_exist_ok=True)
            # An early training script wrote `np.float64(x)` into [metrics]; repair the copy only.
            toml = dest / "model.toml"
            toml.write_text(re.sub(r"np\.float64\(([^)]*)\)", r"\1", toml.read_text()))
            return toml
    return None


def prepare_study(work: Path, n: int) -> Path:
    """A fresh MRI demo study of n cases (study.demo's builder, the demo's own seed)."""
    from study.demo import DEFAULT_SEED, builder

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return builder("mri")(work / "mri", DEFAULT_SEED, n)


def enrol_and_read(study: Path) -> None:
    """Demo readers; spec1 finished session 1 ten days ago, res1 half-way, spec2 done with both."""
    from study.engine import ReadSubmission, StudyEngine
    from study.store import Store

    store = Store.open(study)
    store.set_admin_password(PASSWORD)
    for code, group in (
        ("spec1", "specialist"),
        ("spec2", "specialist"),
        ("spec3", "specialist"),
        ("res1", "resident"),
        ("res2", "resident"),
        ("res3", "resident"),
    ):
        store.add_reader(code, group, "1234")
    store.close()
    clock = {"now": None}
    engine = StudyEngine.open(study)
    base = engine.clock()
    engine.clock = lambda: clock["now"] or base

    def read(reader: str, index: int, n: int | None, at) -> None:
        clock["now"] = at
        session = engine.start(reader, index)
        k = 0
        while (item := session.next_item()) is not None and (n is None or k < n):
            t = engine.clock()
            truth = engine.case(item.case_id).truth
            answer = truth if k % 7 else str(1 - int(truth))
            session.submit(
                ReadSubmission(
                    item.case_id,
                    answer,
                    t - timedelta(seconds=40),
                    t,
                    40_000,
                    confidence=75.0 if answer == "1" else 25.0,
                )
            )
            k += 1
        session.close()

    read("spec1", 1, None, base - timedelta(days=10))
    read("spec2", 1, None, base - timedelta(days=40))
    read("spec2", 2, None, base - timedelta(days=5))
    read("res1", 1, 50, base - timedelta(days=1))
    engine.close()


def shoot_entries(out: Path, work: Path, study: Path) -> None:
    """Where a researcher starts: the launcher's entries and the reader sign-in's admin link."""
    from app.launcher import LauncherWidget, RecentStudies
    from app.main_window import MainWindow
    from study.engine import StudyEngine

    recent = RecentStudies(work / "recent.json")
    recent.add(study)
    launcher = LauncherWidget(recent, demo_dir=work / "no-demo")
    grab(launcher, out, "admin_0_launcher")
    launcher.close()
    engine = StudyEngine.open(study)
    window = MainWindow(engine)
    grab(window, out, "admin_0_reader_signin")
    window.close()
    engine.close()


def shoot_model_fit(out: Path, work: Path) -> None:
    """The demo cytology model (reads `photo`, 3 classes) attached to a binary study whose role is `image`."""
    from app.admin.model_state import ModelState
    from app.admin.model_widget import ModelPanel
    from study import wizard
    from study.engine import StudyEngine

    spec = ROOT / "resources" / "models" / "cytology" / "model.toml"
    if not spec.is_file():
        return
    import skimage

    data = Path(skimage.__file__).parent / "data"
    media = work / "photos"
    media.mkdir(parents=True, exist_ok=True)
    lines = ["case_id,truth"]
    for i, name in enumerate(("camera.png", "coins.png", "moon.png", "page.png"), start=1):
        shutil.copy(data / name, media / f"C{i:03d}.png")
        lines.append(f"C{i:03d},{i % 2}")
    (work / "photos.csv").write_text("\n".join(lines) + "\n")
    scan = wizard.scan(media, work / "photos.csv")
    study = work / "photo-study"
    wizard.write_study(
        study,
        wizard.StudySettings(study_id="photos", title="Cervical photos (binary)", seed=1, design="concurrent"),
        scan.roles,
        scan.cases,
    )
    engine = StudyEngine.open(study)
    panel = ModelPanel(ModelState(engine))
    panel.attach(spec)
    grab(panel, out, "admin_model_fit_offered")
    panel.on_fit_clicked()
    grab(panel, out, "admin_model_fit_attached")
    panel.close()
    engine.close()


def shoot_wizard(out: Path, work: Path, study: Path) -> None:
    from app.admin import open_admin

    truth = work / "truth.csv"
    with (study / "cases.csv").open() as f, truth.open("w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["case_id", "truth", "patient_id"])
        for i, row in enumerate(csv.DictReader(f)):
            w.writerow([row["case_id"], "maybe" if i == 3 else row["truth"], row["patient_id"]])
    shell = open_admin(work / "new-mri-study")
    wiz = shell.wizard
    wiz.media_edit.setText(str(study / "media"))
    wiz.truth_edit.setText(str(truth))
    grab(shell, out, "admin_wizard_1_files")
    wiz.next_button.click()
    wiz.check_button.click()
    wiz.case_table.selectRow(1)
    wait_for(wiz.preview_shown)
    grab(shell, out, "admin_wizard_2_cases_problem")
    wiz.case_table.item(3, 1).setText("1")
    wiz.next_button.click()
    page = wiz.protocol_page
    page.title.setText("Uterine sarcoma vs leiomyoma on MRI")
    page.question.setText("Is the uterine mass a sarcoma?")
    page.negative.setText("leiomyoma")
    page.positive_label.setText("sarcoma")
    page.groups.setText("specialist, resident")
    page.on_form_edited()
    page.password.setText("demo-admin")
    page.confirm.setText("demo-admin2")
    wiz.check_button.click()
    grab(shell, out, "admin_wizard_3_protocol")
    page.confirm.setText("demo-admin")
    wiz.next_button.click()
    wait_for(wiz.study_created)
    grab(shell, out, "admin_wizard_4_created")
    shell.close()


def shoot_admin(out: Path, study: Path, spec: Path | None) -> None:
    from app.admin import open_admin

    shell = open_admin(study)
    grab(shell, out, "admin_login")
    shell.login.password_edit.setText(PASSWORD)
    shell.login.login_button.click()
    admin = shell.admin
    readers = admin.readers
    readers.select_session("spec1", 2)
    readers.reason_edit.setText("reader on leave from next week")
    readers.verify_button.click()
    grab(shell, out, "admin_readers")

    admin.tabs.setCurrentWidget(admin.model)
    model = admin.model
    if spec is not None:
        model.attach(spec)
        model.on_run_clicked()
        progressed = []
        model.worker.progress.connect(lambda v: progressed.append(v))
        while not progressed or progressed[-1][0] < 4:
            if not model.state.running:
                break
            wait_for(model.worker.progress, 60_000)
        grab(shell, out, "admin_model_running")
        model.on_cancel_clicked()
        wait_for(model.precompute_finished)
        grab(shell, out, "admin_model_cancelled")
        model.on_run_clicked()
        wait_for(model.precompute_finished, 300_000)
        grab(shell, out, "admin_model_all_stored")
        done = sorted(admin.engine.store.ai_output_case_ids(model.state.spec.model_id))
        if done:
            model.show_case(done[0], model.state.roles[0])
            wait_for(model.preview_shown)
    grab(shell, out, "admin_model_preview")
    shell.close()


def shoot_dashboard(out: Path) -> None:
    from app.admin.dashboard_state import DashboardState
    from app.admin.dashboard_widget import DashboardWidget
    from study.stats.simulate import simulate, uterine_sarcoma

    reads, ai = simulate(uterine_sarcoma(), seed=2026)
    w = DashboardWidget(DashboardState(None, title="Uterine sarcoma (simulated)"))
    w.load_frames(reads, ai, "simulated uterine-sarcoma study (seed 2026)")
    wait_for(w.analysis_shown)
    for i, name in enumerate(("roc", "forest", "switching", "time")):
        w.tabs.setCurrentIndex(i)
        grab(w, out, f"admin_dashboard_{i + 1}_{name}")
    w.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots" / "admin")
    parser.add_argument("--work", type=Path, default=Path("/tmp/admin-shots"))
    parser.add_argument("--cases", type=int, default=40, help="cases in the demo MRI study")
    parser.add_argument("--only", nargs="*", default=["entries", "wizard", "admin", "fit", "dashboard"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ensure_application()
    study = prepare_study(args.work, args.cases)
    spec = model_spec(study)
    if "entries" in args.only:
        shoot_entries(args.out, args.work, study)
    if "wizard" in args.only:
        shoot_wizard(args.out, args.work, study)
    if "admin" in args.only:
        enrol_and_read(study)
        shoot_admin(args.out, study, spec)
    if "fit" in args.only:
        shoot_model_fit(args.out, args.work)
    if "dashboard" in args.only:
        shoot_dashboard(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
