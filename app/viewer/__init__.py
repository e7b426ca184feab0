"""Viewer widgets: viewport, overlays, hanging layout, standalone window.

pyqtgraph is configured here, once, before any widget is built: arrays are
(rows, cols) like numpy and the media layer.
"""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

from app.viewer.layout import HangingLayoutWidget  # noqa: E402
from app.viewer.overlay import CamOverlay, MaskOutline  # noqa: E402
from app.viewer.viewport import ViewportWidget  # noqa: E402
from app.viewer.window import ViewerWindow  # noqa: E402

__all__ = ["CamOverlay", "HangingLayoutWidget", "MaskOutline", "ViewerWindow", "ViewportWidget"]
