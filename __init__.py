"""ArcGIS Geoprocessing Services: a QGIS plugin and a pure-Python GP client.

Only ``classFactory`` lives here, and it imports QGIS lazily, so that
``import arcgis_gp.gp_client`` works in any Python without QGIS.
"""


def classFactory(iface):  # noqa: N802 - name fixed by QGIS
    """Return the plugin instance QGIS asks for when it loads the plugin."""
    from .plugin import ArcGisGpPlugin

    return ArcGisGpPlugin(iface)
