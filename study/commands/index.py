"""`readerstudy index EXPORT_DIR`: every DICOM object of a PACS/scanner export, by header, as a tree.

Prints patient -> study -> series -> volume and every broken object (file and
cause).  The index is kept (default: in the user's cache, one file per export
folder, so a read-only export can be indexed) so a rerun reads only new files;
Ctrl-C stops cleanly and the next run resumes.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from study.commands import user_errors
from study.intake.index import ExportIndex, index_export
from study.intake.progress import ProgressLine


def add_arguments(parser) -> None:
    parser.add_argument("export_dir", type=Path)
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        metavar="FILE",
        help="where to keep the index (default: ~/.cache/readerstudy/index/NAME-HASH.sqlite, one per export folder)",
    )
    parser.add_argument("--json", action="store_true", help="print the tree as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def tree_lines(idx: ExportIndex) -> list[str]:
    """The researcher's view of the export (patient names and IDs included: this is not a reader screen)."""
    lines = []
    for p in idx.patients:
        lines.append(f"patient {p.patient_id or '(no PatientID)'} {p.name}".rstrip())
        for s in p.studies:
            lines.append(
                f"  study {s.date or '-'} {s.description or '-'} accession {s.accession or '-'} ({s.study_uid})"
            )
            for ser in s.series:
                lines.append(
                    f"    series {ser.number if ser.number is not None else '?'} {ser.description or '-'} "
                    f"{ser.modality}: {len(ser.volumes)} volume{'s' if len(ser.volumes) != 1 else ''}"
                )
                for v in ser.volumes:
                    warn = "".join(f"  WARNING: {w}" for w in v.problems)
                    lines.append(f"      volume {v.volume_id}: {v.label()}{warn}")
    return lines


def as_json(idx: ExportIndex) -> dict:
    return {
        "root": idx.root,
        "files": idx.n_files,
        "dicom_objects": idx.n_dicom,
        "read_this_run": idx.n_read,
        "cancelled": idx.cancelled,
        "broken": [{"file": f, "cause": c} for f, c in idx.broken],
        "volumes": [
            {
                "volume_id": v.volume_id,
                "patient_id": v.patient_id,
                "study_uid": v.study_uid,
                "series_uid": v.series_uid,
                "label": v.label(),
                **v.attributes(),
                "files": list(v.files),
                "problems": list(v.problems),
            }
            for v in idx.volumes
        ],
    }


@user_errors
def run(args) -> int:
    stop = {"now": False}

    def on_interrupt(signum, frame) -> None:  # finish the current file, keep the index, resume next time
        stop["now"] = True

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        idx = index_export(
            args.export_dir,
            args.index,
            progress=None if args.quiet else ProgressLine("index: headers read"),
            cancelled=lambda: stop["now"],
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(as_json(idx), indent=1))
    else:
        print("\n".join(tree_lines(idx)))
        print(
            f"{idx.n_files} files, {idx.n_dicom} DICOM objects, {len(idx.volumes)} volumes, "
            f"{len(idx.broken)} broken; {idx.n_read} read this run, the rest from the kept index"
        )
    for f, cause in idx.broken:
        print(f"broken: {f}: {cause}", file=sys.stderr)
    if idx.cancelled:
        print("index: cancelled; run the same command again to resume", file=sys.stderr)
        return 130
    return 0
