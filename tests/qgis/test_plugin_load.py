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
