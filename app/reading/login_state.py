"""Reader login (no Qt): the engine checks the PIN and enforces the lock-out."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from study.errors import StudyError
from study.security import code_problem, secret_problem


class LoginState:
    """Holds the last message; the engine's messages are safe to show as they are.

    After too many wrong PINs the engine locks the reader code; the screen then
    says so and counts the lock down (``lock_left_s``), so the reader knows when
    to try again instead of guessing on into a lock they cannot see.
    """

    def __init__(self, engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.reader: str | None = None
        self._message = ""
        self._clock = clock
        self._lock: tuple[str, float] | None = None  # (reader code, clock time the lock ends)

    @property
    def message(self) -> str:
        if self._lock is None:
            return self._message
        code, _ = self._lock
        left = self.lock_left_s()
        if left:
            return f"Too many wrong PINs: reader code {code} is locked. Try again in {left} s."
        return f"Reader code {code} is unlocked: you can sign in again."

    @message.setter
    def message(self, text: str) -> None:
        self._message, self._lock = text, None

    @property
    def locked(self) -> bool:
        """A lock is being counted down (the screen refreshes the message every second)."""
        return self._lock is not None and self.lock_left_s() > 0

    def lock_left_s(self) -> int:
        """Whole seconds until the last locked reader code may sign in again (0: none locked)."""
        if self._lock is None:
            return 0
        return max(0, math.ceil(self._lock[1] - self._clock()))

    def login(self, code: str, pin: str) -> str | None:
        code = code.strip()
        if not code or not pin:
            self.message = "Enter your reader code and PIN."
            return None
        # A NUL or an over-long value never reaches the database (a DataError on PostgreSQL).
        problem = code_problem(code) or secret_problem(pin)
        if problem:
            self.reader, self.message = None, problem[0].upper() + problem[1:] + "."
            return None
        try:
            self.reader = self.engine.login(code, pin)
        except StudyError as err:
            self.reader = None
            self.message = str(err)
            locked_s = getattr(err, "locked_s", None)
            if locked_s:
                self._lock = (code, self._clock() + locked_s)
            return None
        self.message = ""
        return self.reader

    def logout(self) -> None:
        self.reader = None
        self.message = ""
