"""The `readerstudy` command.

Each subcommand lives in its own module, imported only when it runs, so a
headless command (stats, export, precompute) never imports Qt and the
launcher never imports torch.  A command module provides
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from study.commands import admin_auth
from study.errors import StudyError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("study.commands.validate", "check a study folder: protocol, case table, media"),
    "index": (
        "study.commands.index",
        "index a PACS/scanner export by DICOM header: patients, studies, series, volumes",
    ),
    "new": ("study.commands.new", "write study.toml and cases.csv from a media folder and a truth table"),
    "readers": ("study.commands.readers", "add or list readers"),
    "admin-password": ("study.commands.admin_password", "set or change a study's admin password"),
    "override-washout": ("study.commands.override_washout", "open an aided session before the washout ends (audited)"),
    "truth-correct": (
        "study.commands.truth_correct",
        "record a changed truth table or truth mask on purpose (admin; audited with a reason)",
    ),
    "status": ("study.commands.status", "progress per reader and session, audit chain check"),
    "probe": ("study.media.cli", "print what the media layer reads from a file or folder"),
    "analyze": ("study.stats.cli", "statistics of a long-format reads table"),
    "report": ("study.export.cli", "write reads, metrics, iMRMC input, JSON and a PDF report"),
    "export-masks": ("study.commands.export_masks", "write every reader's region masks as PNGs with an index CSV"),
    "simulate": ("study.stats.simulate_cli", "write a synthetic, seeded reads table"),
    "demo": ("app.commands.demo", "build the demo studies (and open the MRI demo)"),
    "precompute": ("app.commands.precompute", "run the study's model over every case and store predictions and CAMs"),
    "view": ("app.viewer.cli", "open a file or folder in a standalone viewer window"),
    "open": ("app.commands.open_study", "open a study folder in the app"),
    "admin": ("app.commands.admin", "the researcher's screens: a study's admin login, or the new-study wizard"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="readerstudy", description="AI-assisted clinical reader studies")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        # Arguments are added lazily in main(); keep --help cheap.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        from app.commands.launch import run_launcher

        return run_launcher()
    name = argv[0]
    if name not in COMMANDS:
        build_parser().parse_args(argv)  # prints usage and exits 2
        return 2
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"readerstudy {name}", description=help_text)
    module.add_arguments(parser)
    admin = name in admin_auth.ADMIN_COMMANDS
    if admin:
        admin_auth.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:  # a bad --db URL, a missing store, a wrong admin password: one line each, never a traceback
        if admin:
            admin_auth.require_admin(args, name)
        code = int(module.run(args) or 0)
        if admin and code == 0:
            admin_auth.anchor_after(args, name)
    except StudyError as err:
        for line in err.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
