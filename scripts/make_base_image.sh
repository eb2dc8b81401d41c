#!/usr/bin/env bash
# Makes a container base image from Debian packages alone, for machines that reach Debian's archive
# and PyPI but no container registry (where `FROM python:3.11-slim-bookworm` cannot be pulled).
#
#   scripts/make_base_image.sh [--tag music-studio-base:bookworm] [--mirror URL] [--extra-ca FILE.pem]
#   docker build --build-arg BASE=music-studio-base:bookworm -t music-studio .
#
# The image is Debian bookworm (debootstrap, minbase variant) with Debian's Python 3.11 in a virtual
# environment at /opt/venv, first on PATH, so `python` and `pip` mean the same as in python:3.11-slim.
# --extra-ca adds certificates to trust besides Debian's (a TLS-intercepting proxy's CA, say), so
# that apt and pip work inside the build the way they do on this host.
# Needs root, debootstrap and a working docker or podman (ENGINE=podman picks one).
set -euo pipefail

TAG=music-studio-base:bookworm
MIRROR=http://deb.debian.org/debian
EXTRA_CA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="$2"; shift 2 ;;
    --mirror) MIRROR="$2"; shift 2 ;;
    --extra-ca) EXTRA_CA="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "make_base_image: unknown option $1 (allowed: --tag, --mirror, --extra-ca)" >&2; exit 2 ;;
  esac
done

say() { printf 'make_base_image: %s\n' "$*" >&2; }

# A docker client without a daemon exists on some machines: take the first engine that answers.
pick_engine() {
  local engine
  for engine in ${ENGINE:-docker podman}; do
    if command -v "$engine" >/dev/null 2>&1 && "$engine" info >/dev/null 2>&1; then echo "$engine"; return; fi
  done
  say "no working container engine (tried: ${ENGINE:-docker podman}); on Debian: apt-get install -y podman"
  exit 1
}

[ "$(id -u)" = 0 ] || { say "debootstrap needs root (run it with sudo)"; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { say "debootstrap is missing; on Debian: apt-get install -y debootstrap"; exit 1; }
[ -z "$EXTRA_CA" ] || [ -s "$EXTRA_CA" ] || { say "--extra-ca $EXTRA_CA is not a readable PEM file"; exit 1; }
engine=$(pick_engine)

rootfs=$(mktemp -d /var/tmp/studio-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

# 1. Debian bookworm, the smallest variant, with Python 3.11, venv and the CA store.
say "debootstrap bookworm from $MIRROR into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$MIRROR" >&2
cat > "$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF

# 2. Certificates to trust besides Debian's.
if [ -n "$EXTRA_CA" ]; then
  cp "$EXTRA_CA" "$rootfs/usr/local/share/ca-certificates/extra-ca.crt"
  chroot "$rootfs" update-ca-certificates >&2
fi

# 3. The virtual environment every later `pip install` goes into.
chroot "$rootfs" python3 -m venv /opt/venv

# 4. Leave out what an image does not need: package lists, caches, docs and man pages.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/tmp/*

# 5. Import it. PIP_CERT and REQUESTS_CA_BUNDLE point pip and requests at the system store, so
#    --extra-ca reaches them too (pip otherwise trusts only its own bundled list).
say "importing it as $TAG with $engine"
tar -C "$rootfs" --numeric-owner -c . | "$engine" import \
  --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV VIRTUAL_ENV=/opt/venv' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python"]' \
  - "$TAG" >&2
say "made $TAG: $("$engine" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
