#!/usr/bin/env bash
# Make sure a Docker engine answers. Where none does and apt is usable as root,
# install docker.io and start dockerd in the background; elsewhere say in one line
# what is missing and fail.
set -euo pipefail

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "sandbox: no Docker engine answers (docker info failed); start Docker or run this as root on a Debian/Ubuntu machine" >&2
  exit 3
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "sandbox: installing docker.io (no Docker engine on this machine)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
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
