"""esrijson: conversion between QGIS features and Esri JSON feature sets.

Modules, by direction: ``reader`` (Esri JSON -> QGIS, streaming files through ``_stream``;
``document`` finds the feature set in a document), ``decode`` (geometry dicts -> QgsGeometry),
``writer`` (QGIS -> Esri JSON) and ``encode`` (QgsGeometry prepared for writing); the pure
Python parts, importable without QGIS: ``codes`` (WKB codes, Esri type names), ``wkb`` (WKB
parsing), ``wkb_to_esri`` (WKB -> Esri geometry text or dict), ``feature_text`` (a feature's
text from plain values), ``text_helper`` (the process writing big file exports),
``esri_to_wkb`` (Esri geometry dicts -> WKB), ``read_helper`` (the process parsing big
files), ``helper_process`` (starting those), ``rings`` (ring math) and ``errors``
(``EsriJsonError``, the one root). Then ``fields``, ``spatialref`` and ``style``
(drawingInfo -> QGIS renderer). Only ``qgis.core`` and ``qgis.PyQt`` are imported. See
README.md in this folder for the decisions.
"""
