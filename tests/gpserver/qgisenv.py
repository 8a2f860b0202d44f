"""The QGIS runtime the server needs: an application and the native algorithms."""

from __future__ import annotations

import os
import threading
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsVectorLayer,
)

_LOCK = threading.Lock()
_OWN_APP: list[QgsApplication] = []
_EXITED: list[QgsApplication] = []


def ensure_qgis() -> None:
    """Reuse the running QgsApplication or start an offscreen one; register native algorithms.

    Call from the main thread (QGIS wants its application created there).
    """
    with _LOCK:
        if QgsApplication.instance() is None:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            app = QgsApplication([], False)
            app.initQgis()
            _OWN_APP.append(app)
        registry = QgsApplication.processingRegistry()
        if registry.providerById("native") is None:
            from qgis.analysis import QgsNativeAlgorithms

            registry.addProvider(QgsNativeAlgorithms())


def exit_qgis() -> None:
    """Exit the QgsApplication if this module started it."""
    with _LOCK:
        while _OWN_APP:
            # exitQgis() is static: on a popped temporary, sip deleted the application before
            # the call (a segfault on QGIS >= 3.40). Keep it referenced until the process ends.
            app = _OWN_APP.pop()
            app.exitQgis()
            _EXITED.append(app)


class AlgorithmError(RuntimeError):
    """A QGIS algorithm did not run."""


class _Feedback(QgsProcessingFeedback):
    """Feedback that records messages and follows a cancel check."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802
        """Keep algorithm errors for the job's messages."""
        self.errors.append(error)


def run_algorithm(alg_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run a Processing algorithm in the calling thread and return its results.

    Layer outputs (``OUTPUT`` set to ``TEMPORARY_OUTPUT``) come back as QgsVectorLayer
    objects owned by the caller.
    """
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    if alg is None:
        raise AlgorithmError(f"algorithm {alg_id} is not available")
    context = QgsProcessingContext()
    feedback = _Feedback()
    results, ok = alg.run(params, context, feedback)
    if not ok:
        raise AlgorithmError(f"{alg_id} failed: {'; '.join(feedback.errors) or 'no reason given'}")
    out: dict[str, Any] = {}
    for key, value in results.items():
        # takeResultLayer answers None for strings that are not result layers. Asking
        # temporaryLayerStore() first from a job thread sometimes met a stale sip wrapper
        # ("QgsMapLayerStore has been deleted"), so the store itself is never touched here.
        layer = context.takeResultLayer(value) if isinstance(value, str) else None
        out[key] = layer if layer is not None else value
    return out


def vector_output(results: dict[str, Any], key: str = "OUTPUT") -> QgsVectorLayer:
    """Return a vector layer output of ``run_algorithm``."""
    layer = results.get(key)
    if not isinstance(layer, QgsVectorLayer):
        raise AlgorithmError(f"the algorithm gave no layer for {key}")
    return layer
