#!/usr/bin/env bash
# Installs what Stalwart needs on a fresh Debian machine with Swift 6.3 and Python 3, then
# builds the release library and CLI. Idempotent; safe to re-run.
#   STALWART_VENV  where the Python environment goes (default: <repo>/.venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${STALWART_VENV:-$PWD/.venv}"

# System packages (compilers for the C boundary checks; pkg-config for system libraries).
need=()
for pkg in pkg-config binutils libpng-dev libturbojpeg0-dev libsqlite3-dev libopenblas0-serial chromium; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
command -v cc >/dev/null || need+=(gcc)
command -v c++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "setup: please install: ${need[*]}" >&2
  fi
fi

# Python environment with the bindings' runtime and the test oracles.
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps imagecorruptions==1.1.2

# Self-contained release build: libStalwart.so (static Swift stdlib) and the stalwart CLI.
swift build -c release -Xswiftc -static-stdlib
echo "setup: built $(ls .build/release/libStalwart.so) and .build/release/stalwart"
