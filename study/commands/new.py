"""`readerstudy new STUDY_DIR --from-folder MEDIA_DIR --truth TRUTH.csv`."""

from __future__ import annotations

from pathlib import Path

from study.commands import user_errors
from study.newstudy import MEDIA_MODES, new_study
from study.protocol import DESIGNS


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
                        help="set the study's admin password now (else: `readerstudy admin-password` later)")


@user_errors
def run(args) -> int:
    p = new_study(args.study_dir, args.media_dir, args.truth, design=args.design, washout_days=args.washout_days,
                  seed=args.seed, labels=tuple(args.labels), groups=tuple(args.groups), media=args.media)
    if args.admin_password is not None:
        from study.store import Store

        store = Store.open(args.study_dir)
        try:
            store.set_admin_password(args.admin_password, actor="creator")
        finally:
            store.close()
    print(f"wrote {args.study_dir}/study.toml and cases.csv: roles {', '.join(p.hanging.roles)}, seed {p.seed}")
    return 0
