"""`readerstudy demo --build DIR [--no-open] [--small] [--seed N] [--only NAME ...] [--no-precompute]`.

Builds the four synthetic demo studies under DIR (MRI, cytology, motility,
conjunctiva), copies each shipped demo model from ``resources/models/<name>/``
into the study, enrols demo readers, then precomputes each model's predictions
and CAMs.  Headless (``--no-open``) it does all of that in this order and says
``ready: NAME FOLDER`` as soon as a study can be opened: the unaided read needs
no AI outputs, and aided sessions wait for them (``StudyEngine.ai_readiness``).

Without ``--no-open`` the launcher opens at once and runs the headless command
in a child process (``app/demo_setup.py``): the MRI study opens as soon as it is
ready, and the rest (the other studies, every precompute) goes on in the
background with its progress on screen.  Qt and torch are imported only when
(and if) they are needed, never torch in the GUI process.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from study.errors import StudyError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build", metavar="DIR", required=True, help="folder to build the demo studies in")
    parser.add_argument("--no-open", action="store_true", help="do not open the MRI study in the app afterwards")
    parser.add_argument("--small", action="store_true", help="about 12 cases per study (seconds to build)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the demo seed)")
    parser.add_argument("--no-precompute", action="store_true", help="copy the models but do not run them")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild studies that already exist (their reads are deleted)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=("mri", "cytology", "motility", "conjunctiva", "octa"),
        help="build only these studies (default: all five)",
    )


def models_dir() -> Path:
    import resources

    return Path(resources.__file__).resolve().parent / "models"


def _copy_model(name: str, study_dir: Path, out) -> bool:
    source = models_dir() / name
    if not (source / "model.toml").is_file():
        out.write(f"  {name}: no demo model shipped ({source} missing); the study works without AI\n")
        return False
    target = study_dir / "models" / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    out.write(f"  {name}: model copied to {target.relative_to(study_dir.parent)}\n")
    return True


def _precompute(study_dir: Path, out) -> None:
    """Run the study's model over its cases; one ``AI outputs for NAME: i/N`` line per percent."""
    from app.commands.precompute import prepare
    from inference.precompute import precompute

    name = study_dir.name
    try:
        model, cases, sink, _ = prepare(study_dir)
    except StudyError as err:
        out.write(
            f"  precompute for {name} not run: {err}; the study opens without AI outputs "
            f"(rerun: readerstudy precompute {study_dir})\n"
        )
        return
    last = [-1]

    def progress(done: int, total: int, _eta: float | None) -> None:
        percent = done * 100 // total if total else 100
        if percent != last[0]:
            last[0] = percent
            out.write(f"AI outputs for {name}: {done}/{total}\n")
            out.flush()

    try:
        report = precompute(model, cases, sink, progress=progress)
        sink.record_run(report)
    finally:
        sink.store.close()
    for case_id, cause in report.failed:
        out.write(f"  {name}: unreadable case {case_id}: {cause}\n")
    out.write(
        f"AI outputs for {name}: done ({report.computed} computed, {report.skipped} already stored, "
        f"{len(report.failed)} unreadable, {report.seconds:.1f} s)\n"
    )
    out.flush()


def _add_readers(study_dir: Path, out) -> None:
    from study.demo import DEMO_PIN, DEMO_READERS
    from study.store import Store

    store = Store.open(study_dir)
    try:
        existing = {r.code for r in store.readers()}
        for code, group in DEMO_READERS:
            if code not in existing:
                try:
                    store.add_reader(code, group, DEMO_PIN, actor="demo")
                except StudyError as err:
                    out.write(f"  {err}\n")
    finally:
        store.close()


TOUR_READER = "spec1"
DEMO_ADMIN_PASSWORD = "demo-admin"


def _open_for_tour(study_dir: Path, out) -> bool:
    """Waive the washout for one demo reader (audited), so a newcomer can try the
    aided read right after the unaided one instead of waiting four weeks, and
    set the demo admin password so the admin screens open.  True when the study
    has an unaided and an aided session (a study read aided only has no washout)."""
    from study.engine import StudyEngine

    engine = StudyEngine.open(study_dir)
    try:
        two_sessions = len(engine.sessions(TOUR_READER)) > 1
        if two_sessions and not any(r["action"] == "washout.override" for r in engine.store.audit_rows()):
            engine.override_washout(
                TOUR_READER, 2, "demo study: washout waived so a newcomer can try the aided read", actor="demo"
            )
        if not engine.store.has_admin_password():
            engine.store.set_admin_password(DEMO_ADMIN_PASSWORD, actor="demo")
    finally:
        engine.close()
    return two_sessions


def run(args: argparse.Namespace) -> int:
    if not args.no_open:
        from app.commands.launch import run_launcher

        # The launcher shows at once; the headless command below runs in a child process.
        return run_launcher(demo_dir=Path(args.build).expanduser().resolve(), demo_args=passthrough(args))
    return build(args, sys.stdout)


def passthrough(args: argparse.Namespace) -> list[str]:
    """The options of this run, for the child process that does the work."""
    extra = []
    if args.small:
        extra.append("--small")
    if args.seed is not None:
        extra += ["--seed", str(args.seed)]
    if args.no_precompute:
        extra.append("--no-precompute")
    if getattr(args, "rebuild", False):
        extra.append("--rebuild")
    if getattr(args, "only", None):
        extra += ["--only", *args.only]
    return extra


def build(args: argparse.Namespace, out) -> int:
    """Headless: build (or keep) each study, enrol readers, say ``ready:``; then precompute each."""
    from study.demo import DEFAULT_SEED, DEMO_PIN, DEMO_READERS, STUDIES, builder

    root = Path(args.build).expanduser().resolve()
    seed = DEFAULT_SEED if args.seed is None else args.seed
    root.mkdir(parents=True, exist_ok=True)
    with_model: list[Path] = []
    waived: list[str] = []  # the studies with an unaided and an aided session
    names = [name for name in STUDIES if not getattr(args, "only", None) or name in args.only]
    for name in names:  # MRI first: it is the one that opens
        small_n = STUDIES[name]
        start = time.monotonic()
        existing = root / name
        if (existing / "demo.json").is_file() and not getattr(args, "rebuild", False):
            # Never wipe a demo someone has been reading in; precompute below resumes.
            study_dir = existing
            out.write(f"{name}: already built at {existing} (--rebuild to start over)\n")
        else:
            try:
                study_dir = builder(name)(existing, seed, small_n if args.small else None)
            except (FileExistsError, StudyError) as err:
                sys.stderr.write(f"error: {err}\n")
                return 2
            out.write(f"built {name} in {time.monotonic() - start:.1f} s: {study_dir}\n")
        if _copy_model(name, study_dir, out):
            with_model.append(study_dir)
        _add_readers(study_dir, out)
        if _open_for_tour(study_dir, out):
            waived.append(name)
        out.write(f"ready: {name} {study_dir}\n")
        out.flush()
    out.write(
        "demo readers (PIN " + DEMO_PIN + "): " + ", ".join(f"{code} ({group})" for code, group in DEMO_READERS) + "\n"
    )
    if waived:
        out.write(
            f"{TOUR_READER} may start the aided session right after the unaided one in {', '.join(waived)} "
            "(washout waived, audited)\n"
        )
    out.write(f"admin password: {DEMO_ADMIN_PASSWORD}\n")
    out.flush()
    if not args.no_precompute:
        for study_dir in with_model:
            _precompute(study_dir, out)
    return 0
