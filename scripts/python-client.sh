#!/usr/bin/env bash
# Generates a Python client from the API description with openapi-python-client and runs the
# quickstart (scripts/client-quickstart.py) through it against a real server.
#   scripts/python-client.sh BINARY DATABASE_URL VENV
# e.g. scripts/python-client.sh target/debug/rialto sqlite:///tmp/c.db target/ci-venv
set -euo pipefail
BIN=$1 DB=$2 VENV=$3
OUT=$(mktemp -d)
"$VENV/bin/openapi-python-client" generate --path crates/cli/tests/snapshots/openapi.json --meta none \
    --output-path "$OUT/rialto_client" >"$OUT/generate.log" 2>&1 || { cat "$OUT/generate.log"; exit 1; }
if grep -qiE "unable to (process|parse)" "$OUT/generate.log"; then
    echo "openapi-python-client dropped part of the description:"; cat "$OUT/generate.log"; exit 1
fi
. "$(dirname "$0")/test-server.sh"
start_test_server "$BIN" "$DB" "$OUT/server.log"
PYTHONPATH="$OUT" "$VENV/bin/python" scripts/client-quickstart.py "http://127.0.0.1:$PORT" "$KEY"
