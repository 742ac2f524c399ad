#!/usr/bin/env bash
# The browser the console's tests drive: Debian's chromium, launched by Playwright from its Python
# package (no browser is downloaded by Playwright itself).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "chromium: $(command -v chromium)"
