"""Every key the viewer handles, for the viewports and the on-screen help card.

The reading screen's answer keys (digits, arrow keys, Enter, Space) are never
viewer keys, so they always reach the answer form: slices move with the wheel
and Page Up / Page Down, frames with "," and "." (as in video players).
``VIEWER_KEYS`` is the published list (key text, description) the F1 card shows;
``viewer_mouse()`` lists the mouse gestures as the user's ``viewer.toml`` sets them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.viewer.settings import ViewerSettings, current_settings

_K = Qt.Key

# (Qt key, key text, description, ViewportWidget action)
BINDINGS: tuple[tuple[Qt.Key, str, str, str], ...] = (
    (_K.Key_PageDown, "Page Down", "next slice (or the mouse wheel)", "next_slice"),
    (_K.Key_PageUp, "Page Up", "previous slice (or the mouse wheel)", "previous_slice"),
    (_K.Key_Period, ".", "next frame", "next_slice"),
    (_K.Key_Comma, ",", "previous frame", "previous_slice"),
    (_K.Key_Home, "Home", "first slice or frame", "first_slice"),
    (_K.Key_End, "End", "last slice or frame", "last_slice"),
    (_K.Key_K, "K", "cine play / pause", "toggle_play"),
    (_K.Key_BracketRight, "]", "cine faster", "cine_faster"),
    (_K.Key_BracketLeft, "[", "cine slower", "cine_slower"),
    (_K.Key_W, "W", "next window preset", "next_preset"),
    (_K.Key_R, "R", "reset zoom, pan and window", "reset"),
    (_K.Key_C, "C", "heat map on / off (aided reads)", "toggle_overlay"),
    (_K.Key_A, "A", "mask (the AI's region) on / off", "toggle_mask"),
    (_K.Key_O, "O", "mask drawn as outline, fill or both", "cycle_mask_style"),
    (_K.Key_L, "L", "link / unlink slice scrolling of parallel series", "toggle_link"),
    (_K.Key_M, "M", "maximise / restore this viewport (or double-click)", "toggle_maximised"),
)

VIEWER_KEYS: tuple[tuple[str, str], ...] = tuple((text, description) for _, text, description, _ in BINDINGS)

# What an action needs on screen to do anything (``key_features`` of the viewer); actions not
# listed always act.  The key card lists a key only when its need is met.
ACTION_NEEDS: dict[str, str] = {
    "next_slice": "frames",  # a series or clip of more than one frame
    "previous_slice": "frames",
    "first_slice": "frames",
    "last_slice": "frames",
    "toggle_play": "frames",
    "cine_faster": "frames",
    "cine_slower": "frames",
    "next_preset": "window",  # a greyscale image (colour photos have no window)
    "toggle_overlay": "overlay",  # a heat map
    "toggle_mask": "mask",  # a mask (the AI's region)
    "cycle_mask_style": "mask",
    "toggle_link": "link",  # two parallel series that can scroll together
    "toggle_maximised": "views",  # two or more viewports
}


def viewer_keys_for(features: frozenset[str] | None) -> tuple[tuple[str, str], ...]:
    """VIEWER_KEYS whose action can act on what is shown (``features``; None: every key)."""
    return tuple(
        (text, description)
        for _, text, description, action in BINDINGS
        if features is None or ACTION_NEEDS.get(action, "") in features | {""}
    )


KEY_ACTIONS: dict[Qt.Key, str] = {key: action for key, _, _, action in BINDINGS}

_ACTION_TEXT = {"window": "window / level", "zoom": "zoom (up enlarges)", "pan": "pan"}


def viewer_mouse(settings: ViewerSettings | None = None) -> tuple[tuple[str, str], ...]:
    """(gesture, description) for the help card; ``settings`` None reads the user's ``viewer.toml``."""
    settings = current_settings()[0] if settings is None else settings
    drags = tuple(
        (f"{button.capitalize()} drag", _ACTION_TEXT[action])
        for button, action in settings.mouse.items()
        if action in _ACTION_TEXT
    )
    return (
        ("Wheel", "next / previous slice"),
        *drags,
        ("Ctrl+wheel or pinch", "zoom"),
        ("Double-click", "maximise / restore the viewport"),
    )
