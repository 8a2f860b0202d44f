#!/usr/bin/env bash
# The QGIS matrix: Debian chroots holding other QGIS versions than the host's.
#
#   tools/matrix/chroot.sh ensure NAME      build NAME if missing, else apt-get upgrade it
#   tools/matrix/chroot.sh run NAME CMD...  run CMD inside NAME (cwd = the repository)
#   tools/matrix/chroot.sh names            the known chroots, one a line
#
# Chroots live outside the repository (ARCGIS_GP_MATRIX_ROOT, default
# /var/cache/arcgis-gp-matrix) so a fresh clone on the same machine reuses them. While a
# command runs, /proc, /sys, /dev, /dev/pts, the repository's parent folder (so ../shared
# is beside it) and the target of a ../shared symlink are bind-mounted at the same paths;
# they are unmounted on every exit.
set -euo pipefail

ROOT=${ARCGIS_GP_MATRIX_ROOT:-/var/cache/arcgis-gp-matrix}
MIRROR=${ARCGIS_GP_MATRIX_MIRROR:-http://deb.debian.org/debian}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PARENT=$(dirname "$REPO")
PACKAGES="qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb xauth python3-venv make"

names() { echo qgis-3.40; echo qgis-3.44; }

# NAME -> "suite sources-lines apt-target"
suite_of() {
  case "$1" in
    qgis-3.40) echo bookworm ;;   # + bookworm-backports: QGIS 3.40 LTR, Python 3.11
    qgis-3.44) echo sid ;;        # QGIS 3.44, Python 3.14
    *) echo "unknown chroot '$1' (known: $(names | tr '\n' ' '))" >&2; exit 2 ;;
  esac
}

SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

MOUNTED=()
unmount_all() {
  local i
  for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do
    $SUDO umount "${MOUNTED[$i]}" 2>/dev/null || $SUDO umount -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
  MOUNTED=()
}
trap unmount_all EXIT
trap 'exit 130' INT TERM

bind() {  # bind SRC DEST-inside-chroot
  $SUDO mkdir -p "$2"
  $SUDO mount --bind "$1" "$2"
  MOUNTED+=("$2")
}

# Mounts left under DIR by a killed run: unmount them (deepest first) before touching DIR.
clear_stale_mounts() {
  local dir=$1 m
  for m in $(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    $SUDO umount "$m" 2>/dev/null || $SUDO umount -l "$m"
  done
}

mount_all() {
  local dir=$1
  clear_stale_mounts "$dir"
  $SUDO mount -t proc proc "$dir/proc"; MOUNTED+=("$dir/proc")
  bind /sys "$dir/sys"
  bind /dev "$dir/dev"
  bind /dev/pts "$dir/dev/pts"
  bind "$PARENT" "$dir$PARENT"
  # ../shared may be a symlink out of the parent folder (e.g. to /work/shared): bind its target.
  local shared
  shared=$(readlink -f "$PARENT/shared" 2>/dev/null || true)
  if [ -n "$shared" ] && [ -d "$shared" ] && [ "${shared#"$PARENT"/}" = "$shared" ]; then
    bind "$shared" "$dir$shared"
  fi
  # Host DNS and the host's extra CA certificates (PyPI is reached through an intercepting proxy).
  $SUDO cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
  if [ -d /usr/local/share/ca-certificates ]; then
    $SUDO mkdir -p "$dir/usr/local/share/ca-certificates"
    $SUDO cp -r /usr/local/share/ca-certificates/. "$dir/usr/local/share/ca-certificates/"
  fi
}

in_chroot() {  # in_chroot DIR CMD...
  local dir=$1; shift
  $SUDO env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb \
    chroot "$dir" "$@"
}

configure_apt() {
  local name=$1 dir=$2 suite
  suite=$(suite_of "$name")
  if [ "$suite" = bookworm ]; then
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-backports main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
      "$MIRROR" "$MIRROR" "$MIRROR" | $SUDO tee "$dir/etc/apt/sources.list" >/dev/null
  else
    printf 'deb %s sid main\n' "$MIRROR" | $SUDO tee "$dir/etc/apt/sources.list" >/dev/null
  fi
  # sid's index can be served past its Valid-Until date by mirrors and snapshots.
  printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\nDpkg::Use-Pty "0";\n' \
    | $SUDO tee "$dir/etc/apt/apt.conf.d/90arcgis-gp-matrix" >/dev/null
}

install_packages() {
  local name=$1 dir=$2 target=()
  [ "$(suite_of "$name")" = bookworm ] && target=(-t bookworm-backports)
  in_chroot "$dir" apt-get update -qq
  in_chroot "$dir" apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade
  # shellcheck disable=SC2086
  in_chroot "$dir" apt-get install -y -qq "${target[@]}" $PACKAGES
  in_chroot "$dir" update-ca-certificates >/dev/null
  in_chroot "$dir" apt-get clean
}

ensure() {
  local name=$1 dir="$ROOT/$1" suite
  suite=$(suite_of "$name")
  $SUDO mkdir -p "$ROOT"
  exec 9>"$ROOT/$name.lock"; flock 9
  local t0=$SECONDS
  if [ ! -e "$dir/.arcgis-gp-built" ]; then
    # the chroots are built in parallel: the second apt-get waits for the first's dpkg lock
    command -v debootstrap >/dev/null || $SUDO env DEBIAN_FRONTEND=noninteractive \
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
    echo "== $name: debootstrap $suite from $MIRROR into $dir"
    clear_stale_mounts "$dir"
    # never remove through a bind mount (the repository is one): refuse while any remains
    if awk -v d="$dir/" 'index($2, d) == 1 {found=1} END {exit !found}' /proc/mounts; then
      echo "$dir still has mounts; not removing it" >&2; exit 1
    fi
    $SUDO rm -rf --one-file-system "$dir"
    $SUDO debootstrap --variant=minbase --include=ca-certificates "$suite" "$dir" "$MIRROR" >"$ROOT/$name.debootstrap.log" 2>&1 \
      || { tail -20 "$ROOT/$name.debootstrap.log" >&2; exit 1; }
    configure_apt "$name" "$dir"
    mount_all "$dir"
    install_packages "$name" "$dir"
    unmount_all
    $SUDO touch "$dir/.arcgis-gp-built"
    echo "== $name: built in $((SECONDS - t0)) s"
  else
    echo "== $name: upgrading $dir"
    configure_apt "$name" "$dir"
    mount_all "$dir"
    install_packages "$name" "$dir"
    unmount_all
    echo "== $name: upgraded in $((SECONDS - t0)) s"
  fi
  in_chroot "$dir" dpkg-query -W -f='== $name: qgis ${Version}\n' qgis | sed "s/\$name/$name/"
}

run() {
  local name=$1 dir="$ROOT/$1"; shift
  suite_of "$name" >/dev/null
  [ -e "$dir/.arcgis-gp-built" ] || { echo "chroot $name not built: tools/matrix/chroot.sh ensure $name" >&2; exit 2; }
  exec 9>"$ROOT/$name.lock"; flock 9
  mount_all "$dir"
  local rc=0
  in_chroot "$dir" /bin/bash -c 'cd "$1" && shift && exec "$@"' run "$REPO" "$@" || rc=$?
  unmount_all
  return $rc
}

main() {
case "${1:-}" in
  names) names ;;
  ensure) [ $# = 2 ] || { echo "usage: $0 ensure NAME" >&2; exit 2; }; ensure "$2" ;;
  run) [ $# -ge 3 ] || { echo "usage: $0 run NAME CMD..." >&2; exit 2; }; shift; run "$@" ;;
  *) echo "usage: $0 {names|ensure NAME|run NAME CMD...}" >&2; exit 2 ;;
esac
}
# On one line, so that a run finishes as it started even if this file is edited meanwhile.
main "$@"; exit $?
