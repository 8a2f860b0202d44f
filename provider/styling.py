"""Result layers styled with the Esri drawingInfo they came with, once Processing loads them.

One post-processor for every algorithm of the plugin (the remote tasks' feature
collections and the Esri JSON import). Keeping it alive is the tricky part: QGIS takes
the C++ object (``setPostProcessor`` transfers it to the layer details), but the Python
half of a Python subclass dies with the last Python reference, and then QGIS calls an
empty shell. Neither the algorithm (``run()`` deletes the clone that ran before the
layers load) nor the context (in the toolbox's worker thread, processAlgorithm gets a
temporary copy of it) lives long enough to hold that reference. So this module keeps one
reference per styler until it has styled its layer, or until QGIS deleted it (a result
that was never loaded): the one module-level container of the plugin, pruned on every use.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
)
from qgis.PyQt import sip

from ..esrijson import style
from .i18n import tr as _tr

_LOCK = threading.Lock()
_PENDING: list[DrawingInfoStyler] = []  # stylers whose layer is not loaded yet


class DrawingInfoStyler(QgsProcessingLayerPostProcessorInterface):
    """Applies an Esri drawingInfo (renderer, transparency, labels) to a loaded layer.

    ``origin`` names where the style came from in messages: ``"server"`` or ``"file"``.
    """

    def __init__(self, drawing_info: dict, origin: str = "server") -> None:
        super().__init__()
        self.drawing_info = drawing_info
        self.origin = origin

    def postProcessLayer(self, layer: Any, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> None:
        """Style the layer Processing has just loaded; a problem is a warning, never fatal."""
        _release(self)
        try:
            if not style.apply_drawing_info(layer, self.drawing_info):
                feedback.pushInfo(_tr("The {}'s renderer has no QGIS equivalent; the default "
                                      "style is kept.").format(self.origin))
        except Exception as err:  # noqa: BLE001 - a style problem never fails the run
            feedback.pushWarning(_tr("Could not apply the {}'s style: {}").format(
                self.origin, err))


def _hold(styler: DrawingInfoStyler) -> None:
    """Keep a styler's Python half alive until it runs; forget those QGIS deleted."""
    with _LOCK:
        _PENDING[:] = [s for s in _PENDING if not sip.isdeleted(s)]
        _PENDING.append(styler)


def _release(styler: DrawingInfoStyler) -> None:
    with _LOCK:
        _PENDING[:] = [s for s in _PENDING if s is not styler and not sip.isdeleted(s)]


def pending_count() -> int:
    """Return how many stylers wait for their layer (for tests)."""
    with _LOCK:
        return sum(1 for s in _PENDING if not sip.isdeleted(s))


def style_when_loaded(context: QgsProcessingContext, destination: str,
                      drawing_info: Optional[dict], origin: str = "server"
                      ) -> Optional[DrawingInfoStyler]:
    """Style ``destination`` with ``drawing_info`` when Processing loads it; return the styler.

    Nothing happens (None) without a drawingInfo or when the layer is not to be loaded.
    """
    if not drawing_info or not context.willLoadLayerOnCompletion(destination):
        return None
    styler = DrawingInfoStyler(drawing_info, origin)
    _hold(styler)
    context.layerToLoadOnCompletionDetails(destination).setPostProcessor(styler)
    return styler
