"""`readerstudy export-masks STUDY_DIR --out DIR`: every reader's region masks as PNGs (admin).

One PNG per latest read (255 inside; a series' slices stacked top to bottom)
plus ``masks.csv`` (reader, group, session, mode, case, file, slices, pixels,
area_mm2 summed over slices, and for a series slice_mm, volume_mm3 and volume_ml;
``study.regionreads.write_masks``).  A series without a voxel spacing keeps its
volume cells empty and is named on the output.  Refuses a store whose audit chain
is broken.
"""

from __future__ import annotations

from pathlib import Path

from study.commands import add_db_argument, user_errors
from study.errors import StudyError
from study.regionreads import region_reads, series_voxels, write_masks


def add_arguments(parser) -> None:
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the mask PNGs and masks.csv")
    add_db_argument(parser)


@user_errors
def run(args) -> int:
    reads = region_reads(args.study_dir, args.db)
    if not reads:
        raise StudyError([f'{args.study_dir}: no region reads stored (is the task kind "region"?)'])
    voxels, problems = series_voxels(
        args.study_dir, {r.case_id: (1 if r.mask.ndim == 2 else len(r.mask)) for r in reads}
    )
    index = write_masks(reads, args.out, voxels)
    print(f"{len(reads)} region masks written to {args.out} (index {index.name})")
    if problems:  # the masks are still worth having; the volumes would be guesses
        print(f"no volume (volume_mm3 and volume_ml left empty) for {len(problems)} series:")
        for line in problems:
            print(f"  {line}")
    return 0
