"""esrijson: conversion between QGIS features and Esri JSON feature sets.

Modules: ``reader`` (Esri JSON -> QGIS, streaming for files), ``writer`` (QGIS -> Esri JSON),
``geometry``, ``fields``, ``spatialref`` and ``style`` (drawingInfo -> QGIS renderer).
Only ``qgis.core`` and ``qgis.PyQt`` are imported. See README.md in this folder for the
decisions (curves, non-strict JSON, binary fields, dimensions).
"""
