"""The plugin loads in a real QgsApplication and registers its Processing provider."""

from __future__ import annotations

from qgis.core import QgsApplication

import arcgis_gp


def test_class_factory_registers_and_removes_provider(qgis_iface) -> None:
    registry = QgsApplication.processingRegistry()
    plugin = arcgis_gp.classFactory(qgis_iface)
    plugin.initProcessing()
    try:
        provider = registry.providerById("arcgisgp")
        assert provider is not None
        assert provider.name() == "ArcGIS Geoprocessing"
        assert not provider.icon().isNull()
    finally:
        plugin.unload()
    assert registry.providerById("arcgisgp") is None


def test_metadata_is_complete() -> None:
    import configparser
    from pathlib import Path

    meta = configparser.ConfigParser()
    meta.read(Path(arcgis_gp.__file__).parent / "metadata.txt", encoding="utf-8")
    general = meta["general"]
    assert general["name"] == "ArcGIS Geoprocessing Services"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["category"] == "Analysis"
    for key in ("description", "about", "version", "author", "email", "tags", "icon",
                "homepage", "tracker", "repository"):
        assert general.get(key, "").strip(), f"metadata.txt lacks {key}"
    assert (Path(arcgis_gp.__file__).parent / general["icon"]).is_file()


def test_metadata_offers_the_plugin_to_qgis_3_22_up_to_qgis_4() -> None:
    """The plugin manager's own check (pyplugin_installer) accepts 3.22, 3.40, 3.44 and 4.x."""
    import configparser
    import importlib.util
    from pathlib import Path

    # the module alone: the pyplugin_installer package wants the desktop's iface
    module = Path(QgsApplication.pkgDataPath()) / "python/pyplugin_installer/version_compare.py"
    spec = importlib.util.spec_from_file_location("qgis_version_compare", module)
    version_compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(version_compare)
    isCompatible = version_compare.isCompatible

    meta = configparser.ConfigParser()
    meta.read(Path(arcgis_gp.__file__).parent / "metadata.txt", encoding="utf-8")
    general = meta["general"]
    low, high = general["qgisMinimumVersion"], general["qgisMaximumVersion"]
    for version in ("3.22.16", "3.40.6", "3.44.15", "4.0.0", "4.2.1"):
        assert isCompatible(version, low, high), version
    assert not isCompatible("3.16.0", low, high)
    assert not isCompatible("5.0.0", low, high)
    assert general["supportsQt6"] == "True"  # QGIS 4's plugin manager filters on it


def test_init_gui_adds_menu_and_toolbar_and_unload_removes_them(qgis_iface) -> None:
    registry = QgsApplication.processingRegistry()
    plugin = arcgis_gp.classFactory(qgis_iface)
    plugin.initGui()
    try:
        # QGIS may call initProcessing() as well: the provider must be registered once only.
        plugin.initProcessing()
        assert registry.providerById("arcgisgp") is plugin.provider
        action = plugin.gui.manage_action
        assert action is not None and action.text().startswith("ArcGIS GP Connections")
        action.trigger()
        assert plugin.gui.dialog is not None and plugin.gui.dialog.isVisible()
    finally:
        plugin.unload()
    assert registry.providerById("arcgisgp") is None
    assert plugin.gui is None
