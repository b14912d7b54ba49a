#!/usr/bin/env bash
# The browser tests and `aovlab report --charts` drive Debian's Chromium by path
# (Playwright's own browser downloads are not reachable from CI).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
echo "Installing Chromium for the browser tests (Debian package chromium)..."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
