"""Admin login for one study: check the study's admin password (scrypt, in the store)."""

from __future__ import annotations

from pathlib import Path

from study.errors import StudyError
from study.protocol import load_protocol
from study.store import Store


class AdminLoginState:
    """What the login screen shows and the one thing it does: check (or first set) the password."""

    def __init__(self, study_dir: Path) -> None:
        self.study_dir = Path(study_dir)
        self.title = load_protocol(self.study_dir).title
        self.message = ""
        self.logged_in = False
        store = Store.open(self.study_dir)
        try:
            self.needs_password = not store.has_admin_password()
        finally:
            store.close()
        # The synthetic demo studies (demo.json; `readerstudy demo` sets this password) name it; real ones never.
        self.hint = ""
        if (self.study_dir / "demo.json").is_file() and not self.needs_password:
            from app.commands.demo import DEMO_ADMIN_PASSWORD

            self.hint = f"Demo study: the admin password is {DEMO_ADMIN_PASSWORD}."

    def log_in(self, password: str, confirm: str = "") -> bool:
        """Check the password; for a study without one (made by the CLI), set it first."""
        store = Store.open(self.study_dir)
        try:
            if self.needs_password:
                if password != confirm:
                    self.message = "The two passwords differ."
                    return False
                try:
                    store.set_admin_password(password)
                except StudyError as err:
                    self.message = "; ".join(err.problems)
                    return False
                self.needs_password = False
                self.logged_in = True
            else:
                self.logged_in = store.check_admin_password(password)
                if self.logged_in:
                    store.audit("admin", "admin.login", {})
        finally:
            store.close()
        self.message = "" if self.logged_in else "Wrong admin password."
        return self.logged_in
