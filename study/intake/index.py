"""Index a PACS or scanner export: every DICOM object found by content, headers only.

    idx = index_export("export/", progress=..., cancelled=...)  # kept in the user's cache
    idx.patients   # patient -> study -> series -> volume (study.intake.volumes)
    idx.broken     # (file, cause) for each DICOM object that cannot be used

Files are found by walking the folder (any names, any depth, with or without
suffix or preamble) and, where a DICOMDIR is present, from its records through
pydicom's ``FileSet``, so a file the DICOMDIR lists but the export lost is
reported.  The index is kept in an SQLite file: one row per file with its
size and modification time, so a rerun reads only new or changed files, and
an interrupted run (cancel, Ctrl-C, a crash) resumes where it stopped (rows are
committed in batches).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study.errors import StudyError
from study.intake.header import (
    DICOMDIR_CLASS,
    BrokenObject,
    DicomObject,
    NotDicom,
    read_object,
)
from study.intake.volumes import Patient, group

_SCHEMA_VERSION = 1
_BATCH = 200
_FIELDS = tuple(f.name for f in dataclasses.fields(DicomObject))
_DICOM_SUFFIXES = {".dcm", ".dicom", ".dic", ".ima"}
Progress = Callable[[int, int, float | None], None]  # done, total, seconds left


@dataclass(frozen=True)
class ExportIndex:
    root: str
    patients: tuple[Patient, ...]
    broken: tuple[tuple[str, str], ...]  # (file, cause)
    n_files: int  # regular files seen
    n_dicom: int  # usable DICOM objects (images and others)
    n_read: int  # headers parsed in this run (the rest came from the kept index)
    cancelled: bool = False

    @property
    def volumes(self):  # -> tuple[Volume, ...]
        return tuple(v for p in self.patients for v in p.volumes)


def _walk(root: Path) -> list[os.DirEntry]:
    out: list[os.DirEntry] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                for e in it:
                    if e.name.startswith("."):
                        continue
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif e.is_file():
                        out.append(e)
        except OSError as exc:
            raise StudyError([f"{folder}: cannot list folder: {exc.strerror or exc}"]) from None
    out.sort(key=lambda e: e.path)
    return out


def _dicomdir_members(path: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(files a DICOMDIR lists, (file, cause) for listed files that are missing)."""
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    try:
        fs = FileSet(dcmread(path))
    except Exception as exc:  # noqa: BLE001 - a damaged DICOMDIR: its files are still found by the walk
        return [], [(path, f"unreadable DICOMDIR: {type(exc).__name__}: {str(exc)[:120]}")]
    found, missing = [], []
    try:
        for instance in fs:
            p = os.fspath(instance.path)
            (found if os.path.isfile(p) else missing).append(p)
    finally:
        close_fileset(fs)
    return found, [(p, "listed in DICOMDIR but missing from the export") for p in missing]


def close_fileset(fs) -> None:  # type: ignore[no-untyped-def]
    """Remove the staging folder every pydicom FileSet creates (it has no close(); left, it warns at exit)."""
    stage = getattr(fs, "_stage", {}).get("t")
    if stage is not None:
        stage.cleanup()


class _Store:
    """The kept index: one row per file (path, size, mtime_ns, status, JSON of the object or the cause)."""

    def __init__(self, path: Path) -> None:
        try:
            self.db = sqlite3.connect(path)
            self.db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise StudyError(
                [f"{path}: cannot write the index ({exc}); give a writable place with --index FILE"]
            ) from None  # a batch commit costs no fsync of the whole file
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
            "status TEXT, data TEXT)"
        )
        row = self.db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('version', ?)", (str(_SCHEMA_VERSION),))
        elif row[0] != str(_SCHEMA_VERSION):
            self.db.execute("DELETE FROM files")  # written by another version: read everything again
            self.db.execute("UPDATE meta SET value=? WHERE key='version'", (str(_SCHEMA_VERSION),))
        self.db.commit()

    def known(self) -> dict[str, tuple[int, int, str, str]]:
        return {p: (s, m, st, d) for p, s, m, st, d in self.db.execute("SELECT * FROM files")}

    def put(self, rows: list[tuple[str, int, int, str, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)
        self.db.commit()

    def forget(self, paths: list[str]) -> None:
        self.db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in paths])
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def _decode_row(status: str, data: str, path: str) -> DicomObject | tuple[str, str] | None:
    if status == "ok":
        values = dict(zip(_FIELDS, json.loads(data), strict=True))
        for key in ("image_type", "orientation", "position"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return DicomObject(**values)
    if status == "broken":
        return (path, data)
    return None  # not DICOM


def user_cache_dir() -> Path:
    """readerstudy's per-user cache folder, where platformdirs puts it (plain Python: ``study``
    has no Qt, so no QStandardPaths): XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches
    on macOS, %LOCALAPPDATA% on Windows."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA", "")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "readerstudy" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "readerstudy"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "readerstudy"


def default_index_path(root: Path) -> Path:
    """Where the index of the export ``root`` is kept without --index: in the user's cache, one
    file per export folder (keyed by its resolved path), never inside the export, which is often
    read-only (a CD, a PACS share, a mounted archive)."""
    root = Path(root).resolve()
    key = hashlib.sha256(os.fsencode(root)).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", root.name)[:40].strip("._") or "export"
    return user_cache_dir() / "index" / f"{name}-{key}.sqlite"


def index_export(
    root: str | os.PathLike[str],
    index_path: Path | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> ExportIndex:
    """Index every DICOM object under ``root``; keep the index in ``index_path`` (default: the
    user's cache, ``default_index_path``).

    Raises StudyError when the folder is missing or the index cannot be written.
    """
    root_path = Path(root).resolve()
    if not root_path.is_dir():
        raise StudyError([f"{root_path}: export folder not found"])
    if index_path is None:
        index_path = default_index_path(root_path)
        try:
            index_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudyError(
                [
                    f"{index_path.parent}: cannot make the index folder ({exc.strerror or exc}); give a place with --index FILE"
                ]
            ) from None
    index_path = Path(index_path)
    store = _Store(index_path)
    try:
        return _run(root_path, index_path, store, progress, cancelled)
    finally:
        store.close()


def _run(
    root: Path, index_path: Path, store: _Store, progress: Progress | None, cancelled: Callable[[], bool]
) -> ExportIndex:
    own = {str(index_path.resolve()), str(index_path.resolve()) + "-journal", str(index_path.resolve()) + "-wal"}
    entries = [e for e in _walk(root) if e.path not in own]
    known = store.known()
    stats: dict[str, tuple[int, int]] = {}
    for e in entries:
        st = e.stat()
        stats[e.path] = (st.st_size, st.st_mtime_ns)
    gone = [p for p in known if p not in stats]
    if gone:
        store.forget(gone)
    todo = [p for p, (size, mtime) in stats.items() if p not in known or known[p][:2] != (size, mtime)]
    objects: list[DicomObject] = []
    broken: list[tuple[str, str]] = []
    for p, (_, _, status, data) in known.items():
        if p in stats and known[p][:2] == stats[p]:
            row = _decode_row(status, data, p)
            if isinstance(row, DicomObject):
                objects.append(row)
            elif row is not None:
                broken.append(row)
    pending: list[tuple[str, int, int, str, str]] = []
    start = time.monotonic()
    was_cancelled = False
    n_read = 0
    for i, p in enumerate(todo):
        if cancelled():
            was_cancelled = True
            break
        size, mtime = stats[p]
        try:
            obj = read_object(p)
            objects.append(obj)
            pending.append((p, size, mtime, "ok", json.dumps([getattr(obj, f) for f in _FIELDS])))
        except NotDicom:
            if Path(p).suffix.lower() in _DICOM_SUFFIXES:
                cause = "named as DICOM but its content is not DICOM"
                broken.append((p, cause))
                pending.append((p, size, mtime, "broken", cause))
            else:
                pending.append((p, size, mtime, "other", ""))
        except BrokenObject as exc:
            broken.append((p, str(exc)))
            pending.append((p, size, mtime, "broken", str(exc)))
        n_read += 1
        if len(pending) >= _BATCH:
            store.put(pending)
            pending = []
        if progress is not None and (i % 50 == 49 or i == len(todo) - 1):
            elapsed = time.monotonic() - start
            progress(i + 1, len(todo), elapsed / (i + 1) * (len(todo) - i - 1))
    if pending:
        store.put(pending)
    for dicomdir in [o.path for o in objects if o.sop_class == DICOMDIR_CLASS]:
        listed, missing = _dicomdir_members(dicomdir)
        broken += missing
        unseen = [p for p in listed if os.path.realpath(p) not in stats and p not in stats]
        for p in unseen:  # outside the walked tree (e.g. a DICOMDIR pointing up a level)
            try:
                objects.append(read_object(p))
            except NotDicom:
                broken.append((p, "listed in DICOMDIR but not a DICOM file"))
            except BrokenObject as exc:
                broken.append((p, str(exc)))
    images = [o for o in objects if o.sop_class != DICOMDIR_CLASS]
    return ExportIndex(
        root=str(root),
        patients=group(images),
        broken=tuple(sorted(broken)),
        n_files=len(entries),
        n_dicom=len(images),
        n_read=n_read,
        cancelled=was_cancelled,
    )
