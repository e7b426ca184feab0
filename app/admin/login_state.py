"""Admin login for one study: check the study's admin password (scrypt, in the store)."""

from __future__ import annotations

from pathlib import Path

from study.errors import StudyError
from study.protocol import load_protocol
from study.store import Store


class AdminLoginState:
    """What the login screen shows and the one thing it does: check the password.

    The screen never sets a first password: a study without one (made before
    `new` required it) gets it from `readerstudy admin-password` on the study's
    computer, so whoever opens the admin screen first cannot claim the study.
    Wrong passwords lock the admin out (``Store.admin_login``).
    """

    def __init__(self, study_dir: Path) -> None:
        self.study_dir = Path(study_dir)
        self.title = load_protocol(self.study_dir).title
        self.message = ""
        self.logged_in = False
        self.store_problem = ""  # the store cannot be opened (missing, replaced, bad URL): nothing to log in to
        self.needs_password = False
        self.hint = ""  # the demo's password, on the synthetic demo studies only (below)
        try:
            store = Store.open(self.study_dir)
        except StudyError as err:
            self.store_problem = "; ".join(err.problems)
            self.message = self.store_problem
            return
        try:
            self.needs_password = not store.has_admin_password()
        finally:
            store.close()
        if self.needs_password:
            self.message = (
                "This study has no admin password yet.\nSet one on the study's computer with\n"
                f"    readerstudy admin-password {self.study_dir}\nthen open it again."
            )
        # The synthetic demo studies (demo.json; `readerstudy demo` sets this password) name it; real ones never.
        if (self.study_dir / "demo.json").is_file() and not self.needs_password:
            from app.commands.demo import DEMO_ADMIN_PASSWORD

            self.hint = f"Demo study: the admin password is {DEMO_ADMIN_PASSWORD}."

    @property
    def can_log_in(self) -> bool:
        return not self.store_problem and not self.needs_password

    def log_in(self, password: str) -> bool:
        """Check the password (the store counts failures and locks the admin out after five)."""
        if not self.can_log_in:
            return False
        try:
            store = Store.open(self.study_dir)
        except StudyError as err:
            self.message = "; ".join(err.problems)
            return False
        try:
            store.admin_login(password, via="app")
            self.logged_in, self.message = True, ""
        except StudyError as err:
            self.logged_in, self.message = False, "; ".join(err.problems)
        finally:
            store.close()
        return self.logged_in
