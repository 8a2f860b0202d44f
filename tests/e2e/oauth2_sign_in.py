"""Sign a QGIS profile in to a portal with QGIS's OAuth2 method, as a desktop user once does.

    python -m tests.e2e.oauth2_sign_in <profile folder> <portal sharing URL>

Creates the profile's authentication database (master password from
QGIS_AUTH_PASSWORD_FILE), stores an OAuth2 configuration for the reference app with
"persist token" on, signs in through the portal's form (tests.qgis.provider.helpers.Browser
stands in for the browser) and prints the configuration's id. The tokens stay in the
profile's oauth2-cache, where a later qgis_process finds (and refreshes) them.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(profile: str, portal: str) -> int:
    """Sign in; print the authcfg id."""
    import os

    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QUrl
    from qgis.PyQt.QtNetwork import QNetworkRequest

    app = QgsApplication([], False, profile)
    app.initQgis()
    from tests.gpserver.oauth import APP_CLIENT_ID, APP_CLIENT_SECRET
    from tests.qgis.provider.helpers import Browser, free_port, oauth2_authcfg_values

    manager = QgsApplication.authManager()
    master = Path(os.environ["QGIS_AUTH_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
    if not manager.setMasterPassword(master, True):
        print("could not set the master password", file=sys.stderr)
        return 1
    port = free_port()
    browser = Browser(portal, APP_CLIENT_ID, port)
    from qgis.core import QgsAuthMethodConfig

    config = QgsAuthMethodConfig("OAuth2")
    config.setName("arcgis_gp e2e OAuth2")
    for key, value in oauth2_authcfg_values(portal, APP_CLIENT_ID, APP_CLIENT_SECRET, port,
                                            persist=True).items():
        config.setConfig(key, value)
    ok, stored = manager.storeAuthenticationConfig(config)
    answer = manager.updateNetworkRequest(QNetworkRequest(QUrl(portal + "/portals/self")),
                                          stored.id())
    browser.stop()
    signed = answer[0] if isinstance(answer, tuple) else answer
    if not (ok and signed and browser.visits == 1):
        print(f"sign-in failed: stored={ok} signed={signed} visits={browser.visits} "
              f"{browser.errors}", file=sys.stderr)
        return 1
    # QSettings writes the token cache on its next idle moment: give it one before exiting
    import time

    until = time.monotonic() + 2.0
    while time.monotonic() < until:
        app.processEvents()
        time.sleep(0.05)
    print(stored.id())
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
