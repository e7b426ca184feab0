"""Reader PINs and admin passwords, stored as scrypt hashes (RFC 7914)."""

from __future__ import annotations

import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)


MAX_CODE = 64  # readers.code is String(64): longer is refused up front, on every backend alike
MAX_SECRET = 256
# Control (Cc), format (Cf: zero-width and bidi marks), separators other than space,
# private-use, surrogate and unassigned code points: invisible or misleading in a code.
_BAD_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}


def code_problem(code: str, field: str = "reader code") -> str | None:
    """Why a reader code cannot be used (None when it can); the same rule on SQLite and PostgreSQL."""
    import unicodedata

    if not code:
        return f"{field}: must not be empty"
    if len(code) > MAX_CODE:
        return f"{field}: {len(code)} characters; at most {MAX_CODE}"
    for ch in code:
        if ch == "\x00":
            return f"{field}: contains a NUL character (U+0000)"
        if unicodedata.category(ch) in _BAD_CATEGORIES or (ch.isspace() and ch != " "):
            name = unicodedata.name(ch, "")
            return f"{field}: contains the invisible or control character U+{ord(ch):04X}" + (
                f" ({name})" if name else ""
            )
    if code != code.strip():
        return f"{field}: must not start or end with a space"
    return None


def code_key(code: str) -> str:
    """What makes two reader codes the same reader: case and spaces ignored (``Spec 1`` is ``spec1``)."""
    return "".join(code.split()).casefold()


def code_collisions(codes: list[str]) -> list[str]:
    """One warning per pair of ``codes`` that differ only in upper/lower case or spaces, naming
    both codes (in the given order, the enrolment order).  New codes are refused such a twin
    (``Store.reader_code_problem``); a store made before that rule may hold both."""
    seen: dict[str, str] = {}
    warnings = []
    for code in codes:
        first = seen.setdefault(code_key(code), code)
        if first != code:
            warnings.append(
                f"reader codes {first!r} and {code!r} differ only in upper/lower case or spaces: "
                "they count as two readers in the statistics (if they are one person, read on under one code)"
            )
    return warnings


def secret_problem(secret: str, field: str = "PIN") -> str | None:
    """Why a typed PIN or password cannot be checked (NUL, over-long), or None."""
    if "\x00" in secret:
        return f"{field}: contains a NUL character"
    if len(secret) > MAX_SECRET:
        return f"{field}: {len(secret)} characters; at most {MAX_SECRET}"
    return None
