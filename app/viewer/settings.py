"""The reader's viewer settings: ``viewer.toml`` in the user's config folder.

The folder is ``$READERSTUDY_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/readerstudy``,
else ``~/.config/readerstudy`` (the launcher's, see ``app.launcher.config_dir``).
The file is optional; every key is optional::

    [mouse]              # what a drag with each button does
    left = "window"      # window | zoom | pan | none
    right = "zoom"
    middle = "pan"

The defaults are those of Weasis, OHIF and 3D Slicer.  A bad file gives a
one-line ``ViewerSettingsError`` naming the file, the key and the cause; the
viewer then runs with the defaults and shows that line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

FILE_NAME = "viewer.toml"
BUTTONS = ("left", "right", "middle")
ACTIONS = ("window", "zoom", "pan", "none")
DEFAULT_MOUSE: Mapping[str, str] = MappingProxyType({"left": "window", "right": "zoom", "middle": "pan"})


class ViewerSettingsError(ValueError):
    """A settings file that cannot be used; ``str(err)`` is ``"PATH: key: cause"``."""


@dataclass(frozen=True)
class ViewerSettings:
    mouse: Mapping[str, str] = field(default_factory=lambda: DEFAULT_MOUSE)


def settings_path() -> Path:
    from app.launcher import config_dir  # one definition of the config folder

    return config_dir() / FILE_NAME


def load_settings(path: Path | None = None) -> ViewerSettings:
    """Read ``path`` (default: ``settings_path()``); a missing file gives the defaults.

    Raises ViewerSettingsError for unreadable TOML, unknown tables or keys, or values out of range.
    """
    path = settings_path() if path is None else Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return ViewerSettings()
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ViewerSettingsError(f"{path}: {err}") from None
    for table in data:
        if table != "mouse":
            raise ViewerSettingsError(f"{path}: [{table}]: unknown table (known: [mouse])")
    mouse = dict(DEFAULT_MOUSE)
    table = data.get("mouse", {})
    if not isinstance(table, dict):
        raise ViewerSettingsError(f"{path}: mouse: must be a table [mouse]")
    for key, value in table.items():
        if key not in BUTTONS:
            raise ViewerSettingsError(f"{path}: [mouse] {key}: unknown button (known: {', '.join(BUTTONS)})")
        if value not in ACTIONS:
            raise ViewerSettingsError(f"{path}: [mouse] {key}: {value!r} is not one of {', '.join(ACTIONS)}")
        mouse[key] = value
    return ViewerSettings(mouse=MappingProxyType(mouse))


def current_settings() -> tuple[ViewerSettings, str]:
    """The user's settings and a problem line ("" when none): a bad file falls back to the defaults."""
    try:
        return load_settings(), ""
    except ViewerSettingsError as err:
        return ViewerSettings(), f"{err}; using the default mouse buttons"
