#!/usr/bin/env bash
# Unpacks Debian's prometheus and prometheus-alertmanager (amtool) into .tools/prometheus, for the
# compatibility tests that run them as real peers. Unpacked, not installed: no service gets started.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools/prometheus
if [ -x "$dest/usr/bin/prometheus" ] && [ -x "$dest/usr/bin/amtool" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && { apt-get download prometheus prometheus-alertmanager >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get download prometheus prometheus-alertmanager; }; })
mkdir -p "$dest"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$dest"
done
"$dest/usr/bin/prometheus" --version 2>&1 | head -1
"$dest/usr/bin/amtool" --version 2>&1 | head -1
