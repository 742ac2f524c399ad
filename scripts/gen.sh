#!/usr/bin/env bash
# Regenerates the Python code of proto/alerting/v1 into clients/alerting/v1, and the blocking
# client from the asyncio one (scripts/unasync.py), and README.md's settings table
# (scripts/settings_table.py); all are committed.
# With --check, generates into a scratch folder and fails when the committed code differs.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
export PATH="$(dirname "$py"):$PATH"
out=clients
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
wkt=$("$py" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
mkdir -p "$out/alerting/v1"
"$py" -m grpc_tools.protoc -Iproto -I"$wkt" \
  --python_out="$out" --grpc_python_out="$out" \
  --mypy_out="$out" --mypy_grpc_out="$out" \
  proto/alerting/v1/*.proto
touch "$out/alerting/v1/py.typed"
# The blocking client, derived from the asyncio one.
if [ "${1:-}" = "--check" ]; then
  "$py" scripts/unasync.py "$out/_sync.py"
  cmp -s "$out/_sync.py" clients/alerting/client/_sync.py || {
    echo "generated code is stale: clients/alerting/client/_sync.py differs from 'make gen'" >&2
    exit 1
  }
else
  "$py" scripts/unasync.py
fi
if [ "${1:-}" = "--check" ]; then
  for f in "$out"/alerting/v1/*; do
    name=$(basename "$f")
    if ! cmp -s "$f" "clients/alerting/v1/$name"; then
      echo "generated code is stale: clients/alerting/v1/$name differs from 'make gen'" >&2
      exit 1
    fi
  done
  for f in clients/alerting/v1/*_pb2*.py*; do
    [ -e "$out/alerting/v1/$(basename "$f")" ] || { echo "stale generated file: $f" >&2; exit 1; }
  done
  "$py" scripts/settings_table.py --check
  echo "generated code is up to date"
else
  "$py" scripts/settings_table.py
fi
