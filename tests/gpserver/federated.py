"""A second ArcGIS Server federated with the reference portal, on its own port (origin).

It serves the same GP services and jobs as the main server, but as a federated server of
ArcGIS Enterprise does: its ``/rest/info`` names the portal as its owning system and the
portal's ``generateToken`` as its token service, its own token service is off, every GP
service needs a token, and the only tokens it takes are server tokens the portal made for
it (generateToken with ``serverUrl``); a portal token, an app token or an API key gets
498 "Invalid Token".
"""

from __future__ import annotations

import threading
from typing import Any

from .errors import RestError, token_required
from .faults import Faults
from .httpd import GPHTTPServer, Request, Response
from .routes import Router
from .urls import ServerUrls


class FederatedRouter(Router):
    """The main server's routes with the federated server's token rules."""

    def __init__(self, gp: Any, federated: FederatedServer) -> None:
        super().__init__(gp)
        self.federated = federated

    def check_token(self, req: Request, required: bool, service: str | None = None) -> Any:
        """Only this server's own server tokens; a GP service always needs one."""
        token = req.token
        if token:
            return self.gp.tokens.check(token, req.headers.get("Referer"),
                                        server=self.federated.url + "/arcgis")
        if required or service is not None:
            raise token_required()
        return None

    def info(self, req: Request) -> Response:
        """``/arcgis/rest/info``: owned by the portal, tokens from the portal."""
        body = super().info(req).body
        body["owningSystemUrl"] = f"{self.gp.url}/portal"
        body["authInfo"] = {
            "isTokenBasedSecurity": True,
            "tokenServicesUrl": f"{self.gp.url}/portal/sharing/rest/generateToken",
            "shortLivedTokenValidity": 60,
        }
        return Response(body, title="Info")

    def generate_token(self, req: Request) -> Response:
        """A federated server's own token service is off: the portal issues its tokens."""
        raise RestError(400, "Unable to generate token.", [
            "This server is federated with a portal: get a token from the portal "
            f"({self.gp.url}/portal/sharing/rest/generateToken with serverUrl)."])


class FederatedServer(ServerUrls):
    """Serves a running :class:`~.server.GPServer`'s services as a federated server.

    ``FederatedServer(gp).start()``; ``url`` is its own root (another port), ``task_url``
    and ``services_url`` as on the main server; ``stop()`` closes it (not the main server).
    """

    def __init__(self, gp: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.gp = gp
        self.host = host
        self.port = port
        self.verbose = gp.verbose
        self.faults = Faults()
        self.router = FederatedRouter(gp, self)
        self._httpd: GPHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FederatedServer:
        """Bind and serve in a background thread."""
        self._httpd = GPHTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self.host_port = f"{self.host}:{self.port}"  # what the HTTP handler asks of its server
        self.url = f"http://{self.host_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="gpserver-federated", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)


class Organisation:
    """An ArcGIS organisation on loopback: the reference portal and server (``server``) and
    a server federated with the portal on its own port (``federated``)."""

    def __init__(self, token_lifetime: float | None = None) -> None:
        from .server import GPServer

        self.server = GPServer(port=0, token_lifetime=token_lifetime).start()
        self.federated = FederatedServer(self.server).start()

    @property
    def portal(self) -> str:
        """The portal's sharing root."""
        return self.server.portal_url

    def stop(self) -> None:
        """Stop both servers."""
        self.federated.stop()
        self.server.stop()
