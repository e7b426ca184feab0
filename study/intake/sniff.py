"""Is this file a DICOM object?  Decided from its first 132 bytes, never from its name.

A Part 10 file has a 128-byte preamble and ``DICM``; many exports (old
scanners, some storescp set-ups) write the raw dataset without it, starting at
the first element of group 0002 or 0008.  Such a start is accepted when the
bytes look like a real element: explicit VR (two upper-case letters) or an
implicit-VR length that fits the file.
"""

from __future__ import annotations

import os

HEAD = 132


def is_dicom_head(h: bytes, size: int | None = None) -> bool:
    """True when ``h`` (the first 132 bytes of a file of ``size`` bytes) starts a DICOM object."""
    if len(h) >= 132 and h[128:132] == b"DICM":
        return True
    if len(h) < 8:
        return False
    group, element = int.from_bytes(h[0:2], "little"), int.from_bytes(h[2:4], "little")
    if group not in (0x0002, 0x0008) or element > 0x00FF:
        return False
    if h[4:6].isalpha() and h[4:6].isupper():
        return True  # explicit VR little endian
    length = int.from_bytes(h[4:8], "little")
    return length < 1024 and (size is None or 8 + length <= size)  # implicit VR: a short first value


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """True when the file's content is DICOM; False for unreadable, empty or other files."""
    try:
        with open(path, "rb") as fh:
            h = fh.read(HEAD)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return False
    return is_dicom_head(h, size)
