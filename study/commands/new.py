"""`readerstudy new STUDY_DIR --from-folder MEDIA_DIR --truth TRUTH.csv` or `--from-dicom EXPORT_DIR --rules R.toml`."""

from __future__ import annotations

import sys
from pathlib import Path

from study.commands import user_errors
from study.errors import StudyError
from study.newstudy import MEDIA_MODES, new_study
from study.protocol import DESIGNS
from study.security import secret_problem


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from-folder", dest="media_dir", type=Path, help="one file or folder per case id (folder layout)"
    )
    source.add_argument(
        "--from-dicom",
        dest="export_dir",
        type=Path,
        help="a PACS/scanner export: indexed by header, volumes matched to roles by rules",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        required=True,
        help="CSV with case_id, truth (0/1)[, patient_id]; with --from-dicom: the --truth-key column and truth",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="--from-dicom: TOML with [hanging] roles and [hanging.match.ROLE] rules (first run)",
    )
    parser.add_argument(
        "--truth-key",
        default="PatientID",
        choices=("PatientID", "AccessionNumber", "StudyInstanceUID"),
        help="--from-dicom: the DICOM attribute the truth table is keyed by",
    )
    parser.add_argument(
        "--truth-column",
        default=None,
        help="--from-dicom: the truth CSV column holding the key (default: the --truth-key name)",
    )
    parser.add_argument(
        "--case-per",
        default="patient",
        choices=("patient", "study"),
        help="--from-dicom: one case per patient (all studies) or per study",
    )
    parser.add_argument("--design", choices=DESIGNS, default="sequential")
    parser.add_argument("--washout-days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=None, help="randomization seed (default: drawn once and stored)")
    parser.add_argument(
        "--labels",
        nargs=2,
        default=None,
        metavar=("NEGATIVE", "POSITIVE"),
        help="the truth table's two labels, negative first (default: 0/1, or words that say which is positive: "
        "no/yes, false/true, absent/present, negative/positive)",
    )
    parser.add_argument(
        "--positive",
        default=None,
        metavar="LABEL",
        help="which of the truth table's two labels is positive (the disease), e.g. --positive glaucoma; "
        "required when the labels are other words: the wizard and `new` never guess it",
    )
    parser.add_argument("--groups", nargs="*", default=[])
    parser.add_argument(
        "--media",
        choices=MEDIA_MODES,
        default="copy",
        help="copy the media into STUDY_DIR/media (default: a movable, self-contained folder), "
        "link them there (symbolic links), or leave them in place",
    )
    parser.add_argument(
        "--deidentify",
        action="store_true",
        help="--from-dicom: write de-identified copies (PS3.15 Annex E basic profile) into the study "
        "folder instead of links to the export; recorded in the audit log. The folder then identifies "
        "nobody but in its re-identification key (intake-key.csv, matches.csv, intake-deid-secret.txt): "
        "keep those with the study's custodian, remove them before sharing",
    )
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        metavar="FILE",
        help="--from-dicom: where the export's header index is kept (default: the user's cache, as "
        "`readerstudy index` keeps it; never the study folder: the index names every patient)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--admin-password",
        default=None,
        help="the study's admin password (else --admin-password-file, $READERSTUDY_ADMIN_PASSWORD, "
        "or asked twice in a terminal); a study is never made without one",
    )
    parser.add_argument(
        "--admin-password-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="file whose first line is the admin password",
    )


def _admin_password(args) -> str:
    """Every new study gets its admin password from its creator: nobody can claim it later."""
    from study.commands.admin_auth import ENV, read_password

    if args.admin_password is not None:
        return args.admin_password
    if args.admin_password_file is None and not __import__("os").environ.get(ENV):
        import getpass
        import sys

        if sys.stdin is None or not sys.stdin.isatty():
            raise StudyError(
                [
                    "new: a study needs an admin password: pass --admin-password, --admin-password-file "
                    f"FILE or set {ENV}"
                ]
            )
        first = getpass.getpass("Admin password for the new study: ")
        if getpass.getpass("Repeat: ") != first:
            raise StudyError(["new: the two admin passwords differ"])
        return first
    return read_password(args)


def identifying_lines(study_dir: Path, deidentified: bool) -> list[str]:
    """What the researcher must know about the folder just written: which files identify patients."""
    from study.intake.build import IDENTIFYING

    present = [name for name in IDENTIFYING if (study_dir / name).exists()]
    lines = [
        f"identifying: {', '.join(present)} in {study_dir} (the re-identification key: keep them with the "
        "study's custodian and remove them before the folder is shared)"
    ]
    if not deidentified:
        lines.append(
            "note: media/ holds links to the export's own files, names and IDs included: this folder is not "
            "de-identified (use --deidentify for de-identified copies)"
        )
    return lines


def _from_dicom(args) -> int:
    from study.intake.build import MATCHES, build_from_dicom
    from study.intake.progress import ProgressLine

    deid = None
    if args.deidentify:
        from study.intake.deidentify import Deidentifier, study_secret

        args.study_dir.mkdir(parents=True, exist_ok=True)
        deid = Deidentifier(study_secret(args.study_dir))
    result = build_from_dicom(
        args.study_dir,
        args.export_dir,
        args.truth,
        rules_toml=args.rules,
        truth_key=args.truth_key,
        truth_column=args.truth_column,
        per=args.case_per,
        seed=args.seed,
        design=args.design,
        washout_days=args.washout_days,
        labels=tuple(args.labels) if args.labels else ("negative", "positive"),
        groups=tuple(args.groups),
        progress=None if args.quiet else ProgressLine("index: headers read"),
        materialize=deid.copy_volume if deid is not None else None,
        index_path=args.index,
    )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    m = args.study_dir / MATCHES
    if result.flagged:
        for line in result.flagged:
            print(f"decide: {line}", file=sys.stderr)
        print(
            f"{m}: {len(result.flagged)} match(es) to decide: write a volume_id (or skip) in the choice column, "
            "then run the same command again; cases.csv not written",
            file=sys.stderr,
        )
        print(identifying_lines(args.study_dir, deid is not None)[0], file=sys.stderr)
        return 1
    n = sum(not c.skipped for c in result.cases)
    if deid is not None:
        from study.store import Store

        store = Store.open(args.study_dir)
        try:
            store.audit(
                "intake",
                "deidentify",
                {
                    "profile": deid.describe(),
                    "cases": n,
                    "volumes": deid.volumes,
                    "files": deid.files,
                    "export": str(args.export_dir.resolve()),
                },
            )
        finally:
            store.close()
        print(f"de-identified {deid.files} files of {deid.volumes} volumes ({deid.describe()}); audited")
    print(
        f"wrote {args.study_dir}/study.toml, cases.csv ({n} cases, roles {', '.join(result.protocol.hanging.roles)}), "
        f"media/ and {MATCHES}; seed {result.protocol.seed}"
    )
    for line in identifying_lines(args.study_dir, deid is not None):
        print(line)
    return 0


def _admin_before_rerun(study_dir: Path, password: str) -> bool:
    """Log in as the study's admin when the folder already has a store with an admin password
    (True); False for a new folder, or a store that has no admin password yet."""
    from study.store import Store
    from study.store.identity import recorded

    if not recorded(Path(study_dir)):
        return False
    store = Store.open(study_dir)
    try:
        if not store.has_admin_password():
            return False
        store.admin_login(password, via="cli")
        return True
    finally:
        store.close()


@user_errors
def run(args) -> int:
    password = _admin_password(args)
    problem = secret_problem(password, "admin password") or (
        "admin password: must have at least 6 characters" if len(password) < 6 else None
    )
    if problem:
        raise StudyError([problem])
    logged_in = False
    if args.export_dir is not None and args.positive is not None:
        raise StudyError(["new: with --from-dicom, say the labels as --labels NEGATIVE POSITIVE (not --positive)"])
    if args.export_dir is not None:
        # A rerun over a study that has a store (and so an admin) changes it: the admin password is
        # checked before anything is rewritten, not after.
        logged_in = _admin_before_rerun(args.study_dir, password)
        code = _from_dicom(args)
        if code:
            return code
        protocol = None
    else:
        protocol = new_study(
            args.study_dir,
            args.media_dir,
            args.truth,
            design=args.design,
            washout_days=args.washout_days,
            seed=args.seed,
            labels=tuple(args.labels) if args.labels else None,
            positive=args.positive,
            groups=tuple(args.groups),
            media=args.media,
        )
    from study.store import Store

    store = Store.open(args.study_dir)
    try:
        if store.has_admin_password():
            # A rerun (e.g. --from-dicom after deciding matches) changes the study: its admin only.
            if not logged_in:
                store.admin_login(password, via="cli")
        else:
            store.set_admin_password(password, actor="creator")
    finally:
        store.close()
    if protocol is not None:
        print(
            f"wrote {args.study_dir}/study.toml and cases.csv: roles {', '.join(protocol.hanging.roles)}, "
            f"seed {protocol.seed}"
        )
        from study.newstudy import media_without_truth, read_truth

        left = media_without_truth(args.media_dir, [cid for cid, _, _ in read_truth(args.truth)])
        if left:
            shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
            print(
                f"note: {args.media_dir}: {len(left)} not in the truth table, left out of the study: {shown}",
                file=sys.stderr,
            )
    return 0
