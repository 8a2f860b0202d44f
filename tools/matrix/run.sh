#!/usr/bin/env bash
# `make test-matrix`: build or upgrade every QGIS chroot (in parallel: mostly downloads), then
# in each, one after the other, run the whole pytest suite and a user's session (`make demo`),
# and print a summary per version.
#   tools/matrix/run.sh [NAME...]      (default: every chroot tools/matrix/chroot.sh knows)
# Logs and JUnit reports go to build/matrix/NAME/. Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
CHROOT=tools/matrix/chroot.sh
# shellcheck disable=SC2207
NAMES=("$@"); [ ${#NAMES[@]} -gt 0 ] || NAMES=($($CHROOT names))

pids=()
for name in "${NAMES[@]}"; do
  out=build/matrix/$name
  rm -rf "$out"; mkdir -p "$out"
  echo "== $name: build or upgrade the chroot (log: $out/chroot.log)"
  ( t0=$SECONDS
    if $CHROOT ensure "$name" >"$out/chroot.log" 2>&1; then
      echo "chroot $((SECONDS - t0))" >>"$out/times"
    else
      echo "chroot-failed $((SECONDS - t0))" >>"$out/times"; exit 1
    fi ) &
  pids+=($!)
done
for i in "${!NAMES[@]}"; do
  wait "${pids[$i]}" || { echo "== ${NAMES[$i]}: the chroot failed:"; tail -20 "build/matrix/${NAMES[$i]}/chroot.log"; }
done

for name in "${NAMES[@]}"; do
  out=build/matrix/$name
  grep -q '^chroot ' "$out/times" || continue
  t1=$SECONDS
  echo "== $name: the test suite and a user's session (log: $out/suite.log, $out/session.log)"
  $CHROOT run "$name" tools/matrix/inside.sh "$name" 2>&1 | tee "$out/inside.log"
  echo "suite+session $((SECONDS - t1))" >>"$out/times"
done
python3 tools/matrix/summary.py "${NAMES[@]}"
