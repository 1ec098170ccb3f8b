#!/usr/bin/env bash
# Build a Python 3.11 parent image from Debian's own packages (no Docker Hub):
# debootstrap bookworm + python3.11 + venv, imported with `docker import`.
# Usage: docker/base-image.sh [IMAGE_NAME]   (default movie-roulette-base:bookworm)
# Needs root (debootstrap), Docker running, and a Debian mirror (DEBIAN_MIRROR).
set -euo pipefail
NAME=${1:-movie-roulette-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
need() { command -v "$1" >/dev/null || { echo "base-image: '$1' is missing: apt-get install -y $2" >&2; exit 2; }; }
need debootstrap debootstrap
need docker docker.io
docker info >/dev/null 2>&1 || { echo "base-image: Docker is not running: start it (sudo dockerd &, or systemctl start docker)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "base-image: debootstrap needs root: run as root or with sudo" >&2; exit 2; }
ROOT=$(mktemp -d /tmp/mr-base.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
# Minimal variant; python3.11 + venv + CA certificates (pip over HTTPS), tzdata for clean logs.
debootstrap --variant=minbase \
  --include=python3.11,python3.11-venv,python3-venv,ca-certificates,tzdata \
  "$SUITE" "$ROOT" "$MIRROR"
cat > "$ROOT/etc/apt/sources.list" <<SRC
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
SRC
ln -sf python3.11 "$ROOT/usr/bin/python"
# Keep the image small: no apt lists, caches, docs or man pages.
chroot "$ROOT" apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/usr/share/doc/* \
  "$ROOT"/usr/share/man/* "$ROOT"/usr/share/locale/* "$ROOT"/tmp/*
tar -C "$ROOT" --numeric-owner -c . | docker import \
  -c 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["python3"]' - "$NAME"
docker run --rm --network host "$NAME" python3 -c 'import sys, venv; print("base ok:", sys.version.split()[0])'
