"""The viewer's keyboard bindings, for the reading screen's key card (F1 / ?).

(key text, description); key text is QKeySequence portable text.  This lists
the bindings of ViewportWidget.keyPressEvent as they are; the reading screen
takes the arrows its answer form uses before the viewer sees them, so the card
shows those under "Answer" only.
"""

from __future__ import annotations

VIEWER_KEYS: tuple[tuple[str, str], ...] = (
    ("Down", "next slice / frame"),
    ("Up", "previous slice / frame"),
    ("Right", "next slice / frame"),
    ("Left", "previous slice / frame"),
    ("PgDown", "10 slices forward"),
    ("PgUp", "10 slices back"),
    ("Home", "first slice"),
    ("End", "last slice"),
    ("Space", "play / stop cine"),
    ("R", "reset zoom, pan and window"),
    ("W", "next window preset"),
)
