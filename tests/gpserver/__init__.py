"""The reference ArcGIS REST server (ArcGIS Server GPServer + portal) for tests and demos.

Start it with ``python -m tests.gpserver --port 0`` or, in Python::

    from tests.gpserver import GPServer
    with GPServer(port=0) as srv:
        print(srv.url)
"""

from .server import GPServer

__all__ = ["GPServer"]
