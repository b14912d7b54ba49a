#!/usr/bin/env bash
# Spark (the distributed engine, tested in local mode) needs a Java 17+ runtime.
set -euo pipefail
if java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
  exit 0
fi
echo "Installing a Java runtime for Spark (openjdk-17-jre-headless)..."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q openjdk-17-jre-headless
