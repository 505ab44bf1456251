#!/usr/bin/env bash
# One `rialto bench` run on a fresh PostgreSQL database, printing the throughput, the p50
# latency and whether the ledger verified afterwards.
#   scripts/pg-bench.sh BINARY LABEL [bench arguments...]
# e.g. scripts/pg-bench.sh target/release/rialto new --payments
# PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE.
set -euo pipefail
BIN=$1 LABEL=$2
shift 2
ADMIN=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS rialto_bench" >/dev/null 2>&1
psql "$ADMIN" -qc "CREATE DATABASE rialto_bench" >/dev/null
OUT=$("$BIN" bench --database "${ADMIN%/*}/rialto_bench" "$@" 2>&1 \
    | grep -E '"transfers_per_second"|"p50"|ok = ' | tr -s ' ' | tr '\n' ' ')
echo "$LABEL $* :: $OUT"
