"""The URLs a reference server answers under, from its root ``url`` (in-process or child)."""

from __future__ import annotations


class ServerUrls:
    """``rest_url``, ``services_url``, ``portal_url`` and ``task_url()`` from ``self.url``."""

    url: str

    @property
    def rest_url(self) -> str:
        """``<url>/arcgis/rest``."""
        return f"{self.url}/arcgis/rest"

    @property
    def services_url(self) -> str:
        """``<url>/arcgis/rest/services``."""
        return f"{self.rest_url}/services"

    @property
    def portal_url(self) -> str:
        """``<url>/portal/sharing/rest``."""
        return f"{self.url}/portal/sharing/rest"

    def task_url(self, service: str, task: str) -> str:
        """URL of a GP task, e.g. ``task_url("Demo/Analysis", "Sleep")``."""
        return f"{self.services_url}/{service}/GPServer/{task}"
