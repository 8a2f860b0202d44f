"""esrijson: conversion between QGIS features and Esri JSON feature sets."""
