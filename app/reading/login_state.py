"""Reader login (no Qt): the engine checks the PIN and enforces the lock-out."""

from __future__ import annotations

from study.errors import StudyError


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
