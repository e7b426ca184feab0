"""Admin commands in tests: give a study its admin password and hand it to the CLI the documented way."""

from __future__ import annotations

import os
from pathlib import Path

PASSWORD = "test-admin-pw"
ENV = "READERSTUDY_ADMIN_PASSWORD"


def give_admin_password(study_dir: str | Path, url: str | None = None) -> None:
    """Set the study's admin password (as its creator does) unless it has one."""
    from study.store import Store

    store = Store.open(study_dir, url)
    try:
        if not store.has_admin_password():
            store.set_admin_password(PASSWORD, actor="creator")
    finally:
        store.close()


def admin_env(study_dir: str | Path, url: str | None = None) -> dict[str, str]:
    """The environment for a `readerstudy` subprocess that runs an admin command on the study."""
    give_admin_password(study_dir, url)
    return {**os.environ, ENV: PASSWORD}
