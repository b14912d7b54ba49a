#!/usr/bin/env bash
# The PostgreSQL engine is tested against a real server: Debian's binaries, run by the
# test fixtures (tests/pgserver.py) on a private port and socket. No service is started here.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then
  exit 0
fi
echo "Installing the PostgreSQL server for the engine tests (postgresql)..."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
# policy-rc.d 101: the package must not start its own cluster service (the tests start theirs)
POLICY=/usr/sbin/policy-rc.d
CREATED=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null && $SUDO chmod +x "$POLICY"
  CREATED=1
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql
if [ -n "$CREATED" ]; then $SUDO rm -f "$POLICY"; fi
