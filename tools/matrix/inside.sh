#!/usr/bin/env bash
# Runs inside a matrix chroot, in the repository: the chroot's own venv (never the host's
# .venv), the whole suite as `make test` runs it, then a user's session (`make demo`: plugin
# enabled in a throwaway profile, qgis_process list, a remote BufferFeatures).
set -uo pipefail
name=$1
out=build/matrix/$name
export VENV=/opt/arcgis-gp-venv QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1
mkdir -p "$out"
make -s VENV=$VENV setup >"$out/setup.log" 2>&1 || { echo "== $name: make setup failed"; tail -20 "$out/setup.log"; exit 1; }
$VENV/bin/python -c 'import sys; from qgis.core import Qgis; print(Qgis.QGIS_VERSION, sys.version.split()[0])' >"$out/versions" 2>/dev/null
echo "== $name: QGIS $(cat "$out/versions")"
t0=$SECONDS
rm -rf .qgis-settings
$VENV/bin/python -m pytest -q -p no:cacheprovider --junitxml="$out/junit.xml" >"$out/suite.log" 2>&1
echo $? >"$out/suite.rc"
echo "suite $((SECONDS - t0))" >>"$out/times"
tail -1 "$out/suite.log"
t0=$SECONDS
make -s VENV=$VENV demo >"$out/session.log" 2>&1
echo $? >"$out/session.rc"
echo "session $((SECONDS - t0))" >>"$out/times"
grep -E "algorithms available|polygons written" "$out/session.log"
