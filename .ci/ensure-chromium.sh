#!/usr/bin/env bash
# Make sure a headless Chromium is installed for the HTML report's browser test
# (tests/integration/test_report_browser.py). Idempotent: nothing to do when one is
# there. Where none is and apt is usable as root, install Debian's chromium; elsewhere
# say so in one line and succeed (the test then skips locally, and fails with CI=true).
set -euo pipefail

for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "sandbox: no chromium (the HTML report's browser test will skip); install the chromium package" >&2
  exit 0
fi

echo "sandbox: installing chromium (headless browser for the HTML report test)" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
