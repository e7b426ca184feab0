"""Shared safety rails for every loader: one-line causes, size limits, quiet warnings.

Third-party readers (pydicom, Pillow, PyAV) report trouble through Python
warnings as well as exceptions.  Inside the media layer a warning is either
irrelevant (excess padding) or a hint for a better error message (truncation),
so loaders run under :func:`quiet`, which records warnings instead of letting
the process-wide filter decide (the test suite turns warnings into errors).
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator

from study.media.types import MediaError

# Largest decoded array we agree to build.  A garbage header claiming 60000 x
# 60000 x 9999 frames must fail fast instead of exhausting memory.
MAX_BYTES = 4 * 1024**3

# ``warnings.catch_warnings`` swaps process-global state; a lock keeps two
# loader threads (GUI + prefetch worker) from restoring each other's filters.
_WARN_LOCK = threading.RLock()


def reraise_if_fatal(exc: BaseException) -> None:
    """Let Ctrl-C and interpreter exit through; everything else becomes a MediaError.

    Decoders written in Rust (pylibjpeg-rle) panic with ``PanicException``, which
    derives from BaseException, so catching ``Exception`` alone is not enough.
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc


def one_line(text: object, limit: int = 300) -> str:
    """Collapse a library message (often multi-line) into one short line."""
    s = " ".join(str(text).split())
    s = "".join(ch if ch.isprintable() else "?" for ch in s)  # corrupt UIDs carry control bytes
    return s if len(s) <= limit else s[: limit - 3] + "..."


def fail(path: str | os.PathLike[str], cause: object) -> MediaError:
    return MediaError(os.fspath(path), one_line(cause))


@contextlib.contextmanager
def quiet() -> Iterator[list[warnings.WarningMessage]]:
    """Record (and hide) warnings raised by third-party readers in this block."""
    with _WARN_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def check_size(path: str | os.PathLike[str], n_bytes: int, what: str) -> None:
    if n_bytes > MAX_BYTES:
        raise fail(
            path, f"{what} would need {n_bytes / 1024**3:.1f} GiB, more than the {MAX_BYTES / 1024**3:.0f} GiB limit"
        )
