#!/usr/bin/env bash
# Property-based tests of the API against its own description: schemathesis generates requests
# for every documented operation (valid and invalid ones, and stateful sequences) against a real
# server, and fails on any 5xx, any answer that does not match its documented schema, and any
# undocumented content type.
#   scripts/schemathesis.sh BINARY DATABASE_URL ST_EXECUTABLE
# e.g. scripts/schemathesis.sh target/debug/rialto sqlite:///tmp/st.db target/ci-venv/bin/st
# ST_SEED (default 1) makes a run repeatable; ST_MAX_EXAMPLES (default 10) sizes it.
set -euo pipefail
BIN=$1 DB=$2 ST=$3
. "$(dirname "$0")/test-server.sh"
start_test_server "$BIN" "$DB" "$(mktemp)"
"$ST" run "http://127.0.0.1:$PORT/openapi.json" -H "Authorization: Bearer $KEY" \
    -c "${ST_CHECKS:-not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance}" \
    --max-examples "${ST_MAX_EXAMPLES:-10}" --seed "${ST_SEED:-1}" --request-timeout 10 --no-color
