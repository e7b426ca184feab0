"""`readerstudy demo --build DIR [--no-open] [--small] [--seed N] [--only NAME ...] [--no-precompute]`.

Builds the four synthetic demo studies under DIR (MRI, cytology, motility,
conjunctiva), copies each shipped demo model from ``resources/models/<name>/``
into the study, precomputes its predictions and CAMs, enrols demo readers, and
opens the MRI study in the app.  Everything but the last step is headless: Qt
and torch are imported only when (and if) they are needed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build", metavar="DIR", required=True, help="folder to build the demo studies in")
    parser.add_argument("--no-open", action="store_true", help="do not open the MRI study in the app afterwards")
    parser.add_argument("--small", action="store_true", help="about 12 cases per study (seconds to build)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the demo seed)")
    parser.add_argument("--no-precompute", action="store_true", help="copy the models but do not run them")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild studies that already exist (their reads are deleted)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=("mri", "cytology", "motility", "conjunctiva"),
                        help="build only these studies (default: all four)")


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
    from app.commands import precompute

    rc = precompute.run(argparse.Namespace(study_dir=str(study_dir), model=None, device="cpu"))
    if rc != 0:
        out.write(f"  precompute for {study_dir.name} ended with status {rc}; the study opens without AI outputs "
                  f"(rerun: readerstudy precompute {study_dir})\n")


def _add_readers(study_dir: Path, out) -> None:
    from study.demo import DEMO_PIN, DEMO_READERS
    from study.errors import StudyError
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


def _open_for_tour(study_dir: Path, out) -> None:
    """Waive the washout for one demo reader (audited), so a newcomer can try the
    aided read right after the unaided one instead of waiting four weeks, and
    set the demo admin password so the admin screens open."""
    from study.engine import StudyEngine

    engine = StudyEngine.open(study_dir)
    try:
        if len(engine.sessions(TOUR_READER)) > 1 and not any(
                r["action"] == "washout.override" for r in engine.store.audit_rows()):
            engine.override_washout(TOUR_READER, 2, "demo study: washout waived so a newcomer can try the aided read",
                                    actor="demo")
        if not engine.store.has_admin_password():
            engine.store.set_admin_password(DEMO_ADMIN_PASSWORD, actor="demo")
    finally:
        engine.close()


def run(args: argparse.Namespace) -> int:
    from study.demo import DEFAULT_SEED, DEMO_PIN, DEMO_READERS, STUDIES, builder
    from study.errors import StudyError

    out = sys.stdout
    root = Path(args.build).expanduser().resolve()
    seed = DEFAULT_SEED if args.seed is None else args.seed
    root.mkdir(parents=True, exist_ok=True)
    built: dict[str, Path] = {}
    names = [name for name in STUDIES if not getattr(args, "only", None) or name in args.only]
    for name in names:
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
        built[name] = study_dir
        out.flush()
        if _copy_model(name, study_dir, out) and not args.no_precompute:
            _precompute(study_dir, out)
        _add_readers(study_dir, out)
        _open_for_tour(study_dir, out)
    out.write("demo readers (PIN " + DEMO_PIN + "): "
              + ", ".join(f"{code} ({group})" for code, group in DEMO_READERS) + "\n")
    out.write(f"{TOUR_READER} may start the aided session right after the unaided one (washout waived, audited); "
              f"admin password: {DEMO_ADMIN_PASSWORD}\n")
    if args.no_open or "mri" not in built:
        return 0
    try:
        from app.commands.open_study import open_study_window
    except ImportError as err:
        if getattr(err, "name", None) != "app.commands.open_study":
            raise
        out.write(f"open the MRI demo with: readerstudy open {built['mri']}\n")
        return 0
    return int(open_study_window(built["mri"]) or 0)
