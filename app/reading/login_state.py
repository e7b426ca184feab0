"""Reader login (no Qt): the engine checks the PIN and enforces the lock-out."""

from __future__ import annotations

from study.errors import StudyError
from study.security import code_problem, secret_problem


class LoginState:
    """Holds the last message; the engine's messages are safe to show as they are."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.reader: str | None = None
        self.message = ""

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
            return None
        self.message = ""
        return self.reader

    def logout(self) -> None:
        self.reader = None
        self.message = ""
