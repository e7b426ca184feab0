"""``readerstudy probe PATH [--json]``: what the media layer reads, or why it cannot.

Success prints a JSON object (indented, or one line with ``--json``) and exits
0.  Failure prints exactly one line ``error: PATH: cause`` to stderr and exits
2: never a traceback, whatever the input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Iterator

from study.media.guard import one_line
from study.media.types import Media


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="image, DICOM file, DICOM series folder or video")
    parser.add_argument("--json", action="store_true", help="print one compact JSON line (for scripts)")


def describe(media: Media) -> dict[str, object]:
    """The probe fields of a Media, JSON-ready."""
    return {
        "kind": media.kind,
        "shape": list(media.frames.shape),
        "dtype": str(media.frames.dtype),
        "frames": media.n_frames,
        "spacing": list(media.spacing),
        "slice_spacing": media.slice_spacing,
        "window": list(media.window) if media.window is not None else None,
        "fps": media.fps,
        "frame_times": list(media.frame_times) if media.frame_times is not None else None,
        "slice_positions": list(media.slice_positions) if media.slice_positions is not None else None,
        "nonfinite": media.nonfinite,
        # What the loader decided that changes the stored order or orientation
        # (EXIF/TIFF orientation, display-matrix turn, frame re-ordering, pages kept).
        "decisions": list(media.decisions),
    }


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while decoding.

    Native decoders write there directly, past Python: a Rust decoder's panic
    message (pylibjpeg-rle on a corrupt frame), libjpeg or ffmpeg notes.  The
    one-line error contract needs them gone; the cause is in our message.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no real descriptor (embedded use): nothing to silence
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run(args: argparse.Namespace) -> int:
    path = str(args.path)
    # A command-line tool: library chatter (pydicom warnings, tifffile's logger) would
    # break the one-line contract on stderr; the cause is in the error line.
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    try:
        from study.media import MediaError, load

        try:
            with _native_stderr_silenced():
                media = load(path)
        except MediaError as err:
            print(f"error: {one_line(err.path)}: {one_line(err.cause)}", file=sys.stderr)
            return 2
        info = describe(media)
    except KeyboardInterrupt:
        print(f"error: {one_line(path)}: interrupted", file=sys.stderr)
        return 2
    except BaseException as exc:  # noqa: BLE001  - the promise is: no traceback, ever
        print(f"error: {one_line(path)}: unexpected {type(exc).__name__}: {one_line(exc, 200)}", file=sys.stderr)
        return 2
    print(json.dumps(info) if args.json else json.dumps(info, indent=2))
    return 0
