#!/usr/bin/env bash
# Make sure a Docker engine answers, and that the offline image profile's base can be
# made (debootstrap). Where something is missing and apt is usable as root, install it
# (docker.io, debootstrap) and start dockerd in the background; elsewhere say in one
# line what is missing and fail.
set -euo pipefail

engine_answers() { docker info >/dev/null 2>&1; }
as_root_with_apt() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v debootstrap >/dev/null 2>&1 && as_root_with_apt; then
  echo "sandbox: installing debootstrap (builds the offline base image)" >&2
  apt_install debootstrap
fi

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi

if ! as_root_with_apt; then
  echo "sandbox: no Docker engine answers (docker info failed); start Docker or run this as root on a Debian/Ubuntu machine" >&2
  exit 3
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "sandbox: installing docker.io (no Docker engine on this machine)" >&2
  apt_install docker.io
fi

log=/var/log/sandbox-dockerd.log
echo "sandbox: starting dockerd (log: $log)" >&2
nohup dockerd >"$log" 2>&1 &

for _ in $(seq 1 60); do
  if engine_answers; then
    exit 0
  fi
  sleep 1
done
echo "sandbox: dockerd did not answer within 60 s; see $log" >&2
exit 3
