#!/usr/bin/env bash
# `make test-matrix`: in each QGIS chroot, one after the other: build or upgrade it, run the
# whole pytest suite and a user's session (`make demo`), then print a summary per version.
#   tools/matrix/run.sh [NAME...]      (default: every chroot tools/matrix/chroot.sh knows)
# Logs and JUnit reports go to build/matrix/NAME/. Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
CHROOT=tools/matrix/chroot.sh
# shellcheck disable=SC2207
NAMES=("$@"); [ ${#NAMES[@]} -gt 0 ] || NAMES=($($CHROOT names))

for name in "${NAMES[@]}"; do
  out=build/matrix/$name
  rm -rf "$out"; mkdir -p "$out"
  t0=$SECONDS
  echo "== $name: build or upgrade the chroot (log: $out/chroot.log)"
  if $CHROOT ensure "$name" >"$out/chroot.log" 2>&1; then
    echo "chroot $((SECONDS - t0))" >>"$out/times"
    t1=$SECONDS
    echo "== $name: the test suite and a user's session (log: $out/suite.log, $out/session.log)"
    $CHROOT run "$name" tools/matrix/inside.sh "$name" 2>&1 | tee "$out/inside.log"
    echo "suite+session $((SECONDS - t1))" >>"$out/times"
  else
    echo "chroot-failed $((SECONDS - t0))" >>"$out/times"
    tail -20 "$out/chroot.log"
  fi
done
python3 tools/matrix/summary.py "${NAMES[@]}"
