"""``readerstudy view PATH``: open a file or folder in a standalone viewer window."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="image, DICOM file, DICOM series folder, video or whole-slide image")
    parser.add_argument("--overlay", metavar="NPY", help="a .npy CAM (N, h, w) in [0, 1] to draw over the image")
    parser.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit (no event loop)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from study.media import load
    from study.media.types import MediaError

    try:
        media = load(args.path)
    except MediaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    overlay = None
    if args.overlay:
        try:
            overlay = np.load(args.overlay)
        except (OSError, ValueError) as err:
            print(f"error: {args.overlay}: {err}", file=sys.stderr)
            return 2

    from PySide6.QtWidgets import QApplication

    from app.viewer import ViewerWindow
    from app.workers import collect_garbage_on_gui_thread

    app = QApplication.instance() or QApplication(["readerstudy"])
    collect_garbage_on_gui_thread()
    if media.kind == "wsi":  # a whole-slide image: pan/zoom its pyramid
        from app.viewer.wsi_window import WsiViewerWindow

        if overlay is not None:
            print(
                f"error: {args.overlay}: --overlay draws over images; a slide's heatmap comes from precompute",
                file=sys.stderr,
            )
            return 2

        try:
            window = WsiViewerWindow(media.source)
        except MediaError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    else:
        window = ViewerWindow(media, overlay)
    if args.screenshot:
        window.show()
        if not window.grab().save(args.screenshot):
            print(f"error: {args.screenshot}: could not write the screenshot", file=sys.stderr)
            return 2
        window.close()
        return 0
    window.show()
    return int(app.exec())
