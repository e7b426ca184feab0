"""`readerstudy new STUDY_DIR --from-folder MEDIA_DIR --truth TRUTH.csv`."""

from __future__ import annotations

from pathlib import Path

from study.commands import user_errors
from study.errors import StudyError
from study.newstudy import MEDIA_MODES, new_study
from study.protocol import DESIGNS
from study.security import secret_problem


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--from-folder", dest="media_dir", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True, help="CSV with case_id, truth (0/1)[, patient_id]")
    parser.add_argument("--design", choices=DESIGNS, default="sequential")
    parser.add_argument("--washout-days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=None, help="randomization seed (default: drawn once and stored)")
    parser.add_argument("--labels", nargs=2, default=["negative", "positive"], metavar=("NEGATIVE", "POSITIVE"))
    parser.add_argument("--groups", nargs="*", default=[])
    parser.add_argument("--media", choices=MEDIA_MODES, default="copy",
                        help="copy the media into STUDY_DIR/media (default: a movable, self-contained folder), "
                             "link them there (symbolic links), or leave them in place")
    parser.add_argument("--admin-password", default=None,
                        help="the study's admin password (else --admin-password-file, $READERSTUDY_ADMIN_PASSWORD, "
                             "or asked twice in a terminal); a study is never made without one")
    parser.add_argument("--admin-password-file", type=Path, default=None, metavar="FILE",
                        help="file whose first line is the admin password")


def _admin_password(args) -> str:
    """Every new study gets its admin password from its creator: nobody can claim it later."""
    from study.commands.admin_auth import ENV, read_password

    if args.admin_password is not None:
        return args.admin_password
    if args.admin_password_file is None and not __import__("os").environ.get(ENV):
        import getpass
        import sys

        if sys.stdin is None or not sys.stdin.isatty():
            raise StudyError(["new: a study needs an admin password: pass --admin-password, --admin-password-file "
                              f"FILE or set {ENV}"])
        first = getpass.getpass("Admin password for the new study: ")
        if getpass.getpass("Repeat: ") != first:
            raise StudyError(["new: the two admin passwords differ"])
        return first
    return read_password(args)


@user_errors
def run(args) -> int:
    password = _admin_password(args)
    problem = secret_problem(password, "admin password") or (
        "admin password: must have at least 6 characters" if len(password) < 6 else None)
    if problem:
        raise StudyError([problem])
    p = new_study(args.study_dir, args.media_dir, args.truth, design=args.design, washout_days=args.washout_days,
                  seed=args.seed, labels=tuple(args.labels), groups=tuple(args.groups), media=args.media)
    from study.store import Store

    store = Store.open(args.study_dir)
    try:
        store.set_admin_password(password, actor="creator")
    finally:
        store.close()
    print(f"wrote {args.study_dir}/study.toml and cases.csv: roles {', '.join(p.hanging.roles)}, seed {p.seed}")
    return 0
