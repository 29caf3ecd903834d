#!/bin/sh
# Installs the Debian packages nestor's build and tests need; idempotent.
set -e
PKGS="build-essential pkg-config libprotobuf-c-dev protobuf-c-compiler libcap-dev busybox-static clang"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
