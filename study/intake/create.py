"""The new-study wizard's DICOM route: cases matched from an export, created as the folder route creates.

Nothing is written into the study folder while the researcher matches: the match table
(:func:`study.intake.build.match_export`) indexes into the user's cache and keeps the
researcher's choices in memory, and :func:`stage_cases` shows each chosen volume to the
wizard's checks as a folder of symbolic links outside the study folder.  Create is the folder
route's own :func:`study.wizard.write_study` (protocol and admin password checked, every file
decoded, then study.toml, cases.csv and the admin password written), with the match rules in
study.toml and the media placed from the volumes: copies, links to the export, or de-identified
copies (PS3.15 Annex E, audited).  The re-identification key (:data:`study.intake.build.IDENTIFYING`)
is written beside them, as ``readerstudy new --from-dicom`` writes it.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from study.intake.build import (
    IDENTIFYING,
    BuildResult,
    link_volume,
    patient_codes,
    write_key_files,
)
from study.intake.volumes import Volume
from study.protocol import Protocol
from study.wizard import DraftCase, StudySettings, write_study

# How the matched volumes come into the study folder, in the researcher's words.
MEDIA = {
    "copy": "copy into the study folder (self-contained, movable; the files keep their identifiers)",
    "link": "link to the export's files (the export must stay; the files keep their identifiers)",
    "deidentify": "de-identified copies (PS3.15 Annex E; share the folder without its key files)",
}


def stage_cases(result: BuildResult, staging: Path) -> tuple[DraftCase, ...]:
    """The matched cases as wizard draft cases: each role's volume a folder of symbolic links to
    its files under ``staging`` (outside the study folder), so the wizard's checks and its decoding
    see exactly the volume; a role resolved as none is empty; skipped cases are left out."""
    matches = [m for m in result.cases if not m.skipped]
    patient = patient_codes(matches)
    out = []
    for m in sorted(matches, key=lambda m: m.code):
        media = []
        for role in result.protocol.hanging.roles:
            volume = None if m.left_empty(role) else m.decided(role)
            if volume is None:
                media.append((role, ""))
                continue
            folder = Path(staging) / m.code / role
            link_volume(volume, folder)
            media.append((role, str(folder)))
        out.append(DraftCase(m.code, m.truth, patient[m.unit.patient_id], tuple(media)))
    return tuple(out)


def _copy_volume(volume: Volume, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(volume.files):
        dst = folder / f"{i + 1:05d}.dcm"
        shutil.copy2(src, dst)
        dst.chmod(dst.stat().st_mode | stat.S_IWUSR)  # a read-only export's copies stay the owner's


def create_intake_study(
    study_dir: str | Path,
    settings: StudySettings,
    result: BuildResult,
    cases: tuple[DraftCase, ...],
    admin_password: str,
    *,
    media: str = "copy",
) -> Protocol:
    """Create the study (in a worker): :func:`study.wizard.write_study` with the match rules and the
    volumes placed as ``media`` says (one of :data:`MEDIA`); then the key files, and with
    ``deidentify`` the de-identification in the audit log.  Raises StudyError and writes nothing
    when a check fails (an existing study.toml included: a created study is never rebuilt)."""
    from study.errors import StudyError

    if media not in MEDIA:
        raise StudyError([f"media: {media!r} is not one of {', '.join(MEDIA)}"])
    volumes = {
        (m.code, role): m.decided(role)
        for m in result.cases
        if not m.skipped
        for role in result.protocol.hanging.roles
        if not m.left_empty(role)
    }
    deid = None

    def place(study: Path, wanted: dict[str, dict[str, Path]]) -> dict[str, dict[str, Path]]:
        nonlocal deid
        had_media = (study / "media").exists()
        written = [study / name for name in IDENTIFYING if not (study / name).exists()]
        try:
            if media == "deidentify":
                from study.intake.deidentify import Deidentifier, study_secret

                deid = Deidentifier(study_secret(study))
            out: dict[str, dict[str, Path]] = {}
            for code, roles in wanted.items():
                out[code] = {}
                for role in roles:
                    folder = study / "media" / code / role
                    if folder.exists():
                        raise StudyError([f"{folder}: already exists; choose an empty study folder"])
                    volume = volumes[(code, role)]
                    if deid is not None:
                        deid.copy_volume(volume, folder, code)
                    elif media == "link":
                        link_volume(volume, folder)
                    else:
                        _copy_volume(volume, folder)
                    out[code][role] = folder
            write_key_files(study, result)
        except BaseException:
            if not had_media:
                shutil.rmtree(study / "media", ignore_errors=True)  # what this call placed, nothing else
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return out

    protocol = write_study(
        study_dir,
        settings,
        result.protocol.hanging.roles,
        cases,
        admin_password,
        decode=True,
        match=result.protocol.hanging.match,
        place_media=place,
    )
    if deid is not None:
        from study.store import Store

        store = Store.open(study_dir)
        try:
            store.audit(
                "intake",
                "deidentify",
                {
                    "profile": deid.describe(),
                    "cases": len(cases),
                    "volumes": deid.volumes,
                    "files": deid.files,
                    "export": result.index.root,
                },
            )
        finally:
            store.close()
    return protocol


def identifying_files(study_dir: str | Path) -> list[str]:
    """The key files present in the study folder (to name on screen after Create)."""
    return [name for name in IDENTIFYING if (Path(study_dir) / name).exists()]
