"""`readerstudy export-masks STUDY_DIR --out DIR`: every reader's region masks as PNGs (admin).

One PNG per latest read (255 inside; a series' slices stacked top to bottom)
plus ``masks.csv`` (reader, group, session, mode, case, file, slices, pixels,
area_mm2).  Refuses a store whose audit chain is broken.
"""

from __future__ import annotations

from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.errors import StudyError
from study.regionreads import region_reads, write_masks


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the mask PNGs and masks.csv")
    add_db_argument(parser)


@user_errors
def run(args) -> int:
    reads = region_reads(args.study_dir, args.db)
    if not reads:
        raise StudyError([f'{args.study_dir}: no region reads stored (is the task kind "region"?)'])
    index = write_masks(reads, args.out)
    print(f"{len(reads)} region masks written to {args.out} (index {index.name})")
    return 0
