"""gp_client: a pure-Python client for ArcGIS REST geoprocessing services (no QGIS, no Qt)."""
