"""The new-study wizard's one state object (no Qt): the draft and its problems.

All logic is :mod:`study.wizard`; this object only holds the current draft
and turns StudyErrors into messages for the screen.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from study import wizard
from study.errors import StudyError
from study.media import Media, load
from study.protocol import Protocol
from study.region import read_mask_file


def load_case_media(
    paths: dict[str, str], case_id: str = "", mask_path: str = ""
) -> tuple[str, dict[str, Media], np.ndarray | None]:
    """Worker body: (case_id, every role of the case through the media layer, its truth mask or
    None); MediaError / ValueError name the file."""
    mask = read_mask_file(mask_path) if mask_path else None
    return case_id, {role: load(path) for role, path in paths.items() if path}, mask


NO_PROBLEMS_YET = "No problems so far; the protocol and the admin password come next."


class WizardState:
    def __init__(self, study_dir: Path | None = None) -> None:
        self.study_dir: Path | None = study_dir
        self.media_dir: Path | None = None
        self.media_mode = "copy"  # one of study.newstudy.MEDIA_MODES
        self.truth_csv: Path | None = None
        self.settings = wizard.StudySettings(study_id=study_dir.name if study_dir else "", seed=wizard.random_seed())
        self.roles: tuple[str, ...] = ()
        self.cases: tuple[wizard.DraftCase, ...] = ()
        self.scan_problems: list[str] = []
        # The truth table's two labels when the words do not say which is positive (glaucoma /
        # normal): the Protocol page asks, with no answer preselected (study.wizard.plain_order).
        self.truth_labels: tuple[str, ...] = ()
        self.problems: list[wizard.Problem] = []
        self.message = ""
        self.message_ok: bool | None = None  # True: success, False: a problem, None: information
        self.created: Protocol | None = None
        self._spacing: dict[str, tuple[tuple[float, float] | None, str]] = {}  # role -> (spacing, note)
        # Decoding every file runs in a worker after an instant structural check (decode_job): the cases
        # being decoded, the cases last decoded and what that found, the last check's message.
        self._structural_ok = False
        self._decoding: tuple[wizard.DraftCase, ...] | None = None
        self._decoded: tuple[wizard.DraftCase, ...] | None = None
        self._media_problems: list[wizard.Problem] = []
        self._checked: tuple[str, bool | None] = ("", None)
        # The DICOM route (study.intake.create): the match it ends with, its rules, how its media come in.
        self.intake = None  # study.intake.build.BuildResult once "From a DICOM export…" is resolved
        self.intake_media = "copy"  # one of study.intake.create.MEDIA
        self.match: tuple = ()  # [hanging.match.ROLE] rules of the intake's protocol

    # -- page 1: files -------------------------------------------------------------
    def set_files(self, study_dir: str, media_dir: str, truth_csv: str) -> None:
        self.intake, self.match = None, ()  # the folder route: a DICOM route left behind is dropped
        self.study_dir = Path(study_dir).expanduser() if study_dir.strip() else None
        self.media_dir = Path(media_dir).expanduser() if media_dir.strip() else None
        self.truth_csv = Path(truth_csv).expanduser() if truth_csv.strip() else None

    def scan(self) -> bool:
        missing = [
            name
            for name, v in (
                ("study folder", self.study_dir),
                ("media folder", self.media_dir),
                ("truth CSV", self.truth_csv),
            )
            if v is None
        ]
        if missing:
            self.message, self.message_ok = "Choose the " + ", ".join(missing) + ".", False
            return False
        try:
            result = wizard.scan(self.media_dir, self.truth_csv)
        except StudyError as err:
            # Many lines go to the problem list (it scrolls); the message line stays short.
            many = len(err.problems) > 1
            self.problems = [wizard.Problem(p) for p in err.problems] if many else []
            self.message = f"{len(err.problems)} problem(s) in the truth table." if many else err.problems[0]
            self.message_ok = False
            return False
        self.cases, self.roles, self.scan_problems = result.cases, result.roles, list(result.problems)
        self._spacing = {}
        masks = sum(bool(c.truth_mask) for c in self.cases)
        guess = wizard.guess_task([c.truth for c in self.cases], masks=bool(masks))
        study_id = self.settings.study_id or self.study_dir.name
        self._use_guess(guess, study_id=study_id, region_role=self.roles[0] if self.roles else "")
        self.message = f"{len(self.cases)} cases, roles: {', '.join(self.roles) or 'none found'}" + (
            f", {masks} truth masks." if masks else "."
        )
        s = self.settings
        if self.truth_labels:
            self.message += f" {self.label_counts}: choose which is positive (the disease) on the Protocol page."
        elif s.kind == "region" and not s.also and any(c.truth for c in self.cases):
            self.message += " The truths are not a yes/no question: a region task without one does not use them."
        self.problems = [wizard.Problem(p) for p in self.scan_problems]
        self.message_ok = None
        return True

    def use_intake(self, study_dir: Path, truth_csv: Path | None, result, cases, media: str) -> None:
        """The DICOM route's match is resolved: its cases (volumes staged outside the study folder),
        roles and rules become the draft; the Protocol page and the admin password come next."""
        self.study_dir, self.truth_csv, self.media_dir = study_dir, truth_csv, None
        self.intake, self.intake_media = result, media
        self.match = result.protocol.hanging.match
        self.cases, self.roles, self.scan_problems = tuple(cases), result.protocol.hanging.roles, []
        self._spacing = {}
        guess = wizard.guess_task([c.truth for c in self.cases])
        self._use_guess(guess, study_id=self.settings.study_id or study_dir.name, region_role=self.roles[0])
        self.problems = []
        self.message, self.message_ok = (
            f"{len(self.cases)} cases from the DICOM export, roles {', '.join(self.roles)}."
            + (f" {self.label_counts}: choose which is positive on this page." if self.truth_labels else ""),
            None,
        )

    def _use_guess(self, guess: dict, **changes) -> None:
        """The task guessed from the truths becomes the draft's; a positive label left to choose
        is remembered, so the Protocol page can ask (and ask again if the choice is undone)."""
        self.settings = dataclasses.replace(self.settings, **({"positive_to_choose": ()} | changes | guess))
        self.truth_labels = self.settings.positive_to_choose

    @property
    def label_counts(self) -> str:
        """'Truth labels glaucoma: 12 cases, normal: 8 cases' (the draft's cases)."""
        return "Truth labels " + wizard.counts_text([c.truth for c in self.cases])

    # -- page 2: cases -------------------------------------------------------------------
    def set_cell(self, row: int, column: str, value: str) -> None:
        self.cases = wizard.set_cell(self.cases, row, column, value)

    def remove_rows(self, rows: set[int]) -> None:
        self.cases = wizard.remove_rows(self.cases, rows)
        self.message_ok = None
        self.message = f"Removed {len(rows)} case(s); {len(self.cases)} left."

    def rename_role(self, old: str, new: str) -> bool:
        try:
            self.cases, self.roles = wizard.rename_role(self.cases, self.roles, old, new)
        except StudyError as err:
            self.message, self.message_ok = "; ".join(err.problems), False
            return False
        if self.settings.region_role == old:
            self.update(region_role=new.strip())
        self._spacing.pop(old, None)
        self.message_ok = None
        self.message = f"Role {old} is now {new.strip()}."
        return True

    def case_paths(self, row: int) -> dict[str, str]:
        return dict(self.cases[row].media)

    @property
    def shows_masks(self) -> bool:
        """The case table has a truth_mask column: a region task, or a truth table that gave masks."""
        return self.settings.kind == "region" or any(c.truth_mask for c in self.cases)

    def media_spacing(self, role: str) -> tuple[tuple[float, float] | None, str]:
        """(pixel spacing in mm that the first case's ``role`` media declares or None, a line saying
        so) for the region page; read once per role from one header."""
        if role not in self._spacing:
            path = next((c.path(role) for c in self.cases if c.path(role)), "")
            try:
                spacing = wizard.media_spacing(path) if path else None
            except StudyError as err:
                self._spacing[role] = (None, f"Cannot read the pixel spacing: {err.problems[0]}")
            else:
                if spacing is not None:
                    note = f"The {role!r} media give {spacing[0]:.4g} \u00d7 {spacing[1]:.4g} mm pixels (DICOM)."
                elif path:
                    note = f"The {role!r} media carry no pixel size: enter it, or areas stay in pixels."
                else:
                    note = f"No {role!r} media to read a pixel size from."
                self._spacing[role] = (spacing, note)
        return self._spacing[role]

    # -- page 3: protocol -------------------------------------------------------------------
    def update(self, **changes) -> None:
        self.settings = dataclasses.replace(self.settings, **changes)

    @property
    def aided_note(self) -> str:
        """The design's aided reads wait for a model and its outputs (attached after Create)."""
        return wizard.aided_note(self.settings.design)

    def new_seed(self) -> int:
        self.update(seed=wizard.random_seed())
        return self.settings.seed

    def check(self, password: str | None = None, confirm: str | None = None) -> list[wizard.Problem]:
        """Every problem Create would report; with the passwords, theirs too (as Create checks them).

        Instant: the table, the protocol and the files' presence (:func:`study.wizard.check`), plus
        the decoding problems found for these very cases by the last :meth:`decode_job`.
        Without the passwords (the pages before the protocol) a clean draft is not yet "ready to
        create": the admin password is still to come."""
        if self.study_dir is None:
            structural = [wizard.Problem("study folder: not chosen")]
        else:
            structural = wizard.check(self.study_dir, self.settings, self.roles, self.cases, self.match)
        self._structural_ok = not structural
        self.problems = structural
        if password is not None:
            self.problems += wizard.password_problems(password, confirm or "")
        if self._structural_ok and self.cases is self._decoded:
            self.problems += self._media_problems
        if self.problems:
            self.message, self.message_ok = f"{len(self.problems)} problem(s).", False
        elif password is None:
            self.message, self.message_ok = NO_PROBLEMS_YET, True
        else:
            self.message, self.message_ok = "No problems: ready to create.", True
        self._checked = (self.message, self.message_ok)
        return self.problems

    def decode_job(self) -> tuple[tuple, tuple] | None:
        """(cases, roles) for :func:`study.wizard.decode_media` (run in a worker) when the last
        :meth:`check` found the table sound and these cases are not decoded yet (or had files that
        did not decode: they may have been replaced since), else None."""
        if not self._structural_ok or not self.cases or self._decoding is self.cases:
            return None
        if self._decoded is self.cases and not self._media_problems:
            return None
        self._decoding = self.cases
        self.on_decode_progress((0, len(self.cases)))
        return self.cases, self.roles

    def on_decode_progress(self, done_total: tuple[int, int]) -> None:
        done, total = done_total
        message, ok = self._checked
        prefix = f"{message} " if ok is False else ""  # the check's problems stay in view
        self.message, self.message_ok = (
            f"{prefix}Decoding the media: {done} of {total} cases\u2026",
            (False if ok is False else None),
        )

    def on_decoded(self, problems: list[wizard.Problem]) -> None:
        """The decoding's problems join the last check's (and stay with these cases until they change);
        when the cases changed meanwhile, a line says to check again."""
        decoded, self._decoding = self._decoding, None
        if self.cases is not decoded:
            self.message, self.message_ok = "The cases changed while their media were decoded: press Check again.", None
            return
        self._decoded, self._media_problems = decoded, list(problems)
        self.problems = [p for p in self.problems if p not in self._media_problems] + self._media_problems
        message, ok = self._checked
        if problems:
            self.message = (
                f"{len(self.problems)} problem(s); {len(problems)} file(s) the reading screen could not show."
            )
            self.message_ok = False
        elif ok is False:
            self.message, self.message_ok = message, ok
        else:
            self.message, self.message_ok = f"Every file of the {len(self.cases)} cases decodes. {message}", ok

    def on_decode_ended(self) -> None:
        """The decoding worker stopped (done, failed or cancelled)."""
        self._decoding = None

    def create_job(self, password: str, confirm: str) -> tuple[tuple, dict] | None:
        """(args, kwargs) of :func:`study.wizard.write_study` when the draft passes every check, else
        None with the problems listed; the screen runs the job in a worker (copying media takes time)."""
        if self.check(password, confirm) or self.study_dir is None:
            return None
        if self.intake is not None:
            self.message, self.message_ok = (
                {
                    "copy": "Decoding the volumes and copying them into the study folder…",
                    "link": "Decoding the volumes and linking them into the study folder…",
                }.get(self.intake_media, "Decoding the volumes and writing de-identified copies…"),
                None,
            )
            return (
                (self.study_dir, self.settings, self.intake, self.cases, password),
                {"media": self.intake_media},
            )
        self.message, self.message_ok = (
            {
                "copy": "Decoding the media and copying them into the study folder…",
                "link": "Decoding the media and linking them into the study folder…",
            }.get(self.media_mode, "Decoding the media and writing the study…"),
            None,
        )
        return (
            (self.study_dir, self.settings, self.roles, self.cases, password),
            {"media": self.media_mode, "media_dir": self.media_dir, "decode": True},
        )

    @property
    def create_function(self):  # type: ignore[no-untyped-def]
        """What Create runs in a worker with :meth:`create_job`'s arguments."""
        if self.intake is not None:
            from study.intake.create import create_intake_study

            return create_intake_study
        return wizard.write_study

    def on_created(self, protocol: Protocol) -> None:
        self.created = protocol
        self.message_ok = True
        if self.intake is not None:
            from study.intake.create import identifying_files

            where = {"copy": "volumes copied into it", "link": "volumes linked into it"}.get(
                self.intake_media, "de-identified copies in it"
            )
            self.message = (
                f"Created {self.study_dir / 'study.toml'} and cases.csv ({len(self.cases)} cases, {where}). "
                f"Identifying: {', '.join(identifying_files(self.study_dir))}: keep them with the study's "
                "custodian and remove them before the folder is shared."
            )
            return
        where = {"copy": "media copied into it", "link": "media linked into it"}.get(
            self.media_mode, "media left in place"
        )
        self.message = (
            f"Created {self.study_dir / 'study.toml'} and cases.csv ({len(self.cases)} cases, {where}). "
            "Next: attach a model and precompute (Study administration \u2192 Model); "
            "until then only unaided reads open."
        )

    def on_create_failed(self, exc: BaseException) -> None:
        lines = exc.problems if isinstance(exc, StudyError) else [f"{type(exc).__name__}: {exc}"]
        self.problems = [wizard.Problem(p) for p in lines]
        self.message, self.message_ok = f"{len(self.problems)} problem(s).", False

    def create(self, password: str, confirm: str) -> bool:
        """The same job on this thread (scripts and logic tests)."""
        job = self.create_job(password, confirm)
        if job is None:
            return False
        try:
            self.on_created(self.create_function(*job[0], **job[1]))
        except StudyError as err:
            self.on_create_failed(err)
            return False
        return True
