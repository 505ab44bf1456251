#!/usr/bin/env bash
# Writes a database with a released `rialto` binary, for the upgrade test
# (crates/cli/tests/it/upgrade.rs): users, accounts, transfers (posted, pending, voided),
# a journal entry, payments that pass, go to review and are refused by rules that fire with
# every kind of action, a refund, a settlement run, a label and audit records.
#
#   scripts/make-release-fixture.sh RIALTO_BINARY DATABASE_URL
#
# SQLite: DATABASE_URL is sqlite://PATH. PostgreSQL: the database must exist and be empty.
set -euo pipefail
BIN=$1 URL=$2
PORT=${PORT:-18089}
KEY=rialto_fixture_admin_key
RIALTO_ADMIN_KEY=$KEY "$BIN" serve --database "$URL" --listen "127.0.0.1:$PORT" >/tmp/rialto-fixture.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
B="http://127.0.0.1:$PORT"
post() { curl -sS --fail-with-body -H "Authorization: Bearer $KEY" -H 'content-type: application/json' "$B$1" -d "$2"; }
id() { jq -r .id; }

USER=$(post /v1/users '{"name":"Alice","email":"alice@example.com"}' | id)
FUND=$(post /v1/accounts '{"currency":"USD","allow_negative_balance":true,"name":"funding"}' | id)
WALLET=$(post /v1/accounts "{\"currency\":\"USD\",\"name\":\"alice\",\"user_id\":\"$USER\"}" | id)
SHOP=$(post /v1/accounts '{"currency":"USD","name":"shop"}' | id)
EUR=$(post /v1/accounts '{"currency":"EUR","allow_negative_balance":true}' | id)
post /v1/transfers "{\"source_account_id\":\"$FUND\",\"destination_account_id\":\"$WALLET\",\"amount\":500000,\"currency\":\"USD\"}" >/dev/null
HOLD=$(post /v1/transfers "{\"source_account_id\":\"$FUND\",\"destination_account_id\":\"$WALLET\",\"amount\":700,\"currency\":\"USD\",\"pending\":true,\"expires_in_seconds\":3600}" | id)
post "/v1/transfers/$HOLD/void" '{}' >/dev/null
HOLD2=$(post /v1/transfers "{\"source_account_id\":\"$FUND\",\"destination_account_id\":\"$WALLET\",\"amount\":900,\"currency\":\"USD\",\"pending\":true,\"expires_in_seconds\":3600}" | id)
post "/v1/transfers/$HOLD2/post" '{}' >/dev/null
post /v1/journal-entries "{\"lines\":[{\"account_id\":\"$FUND\",\"direction\":\"debit\",\"amount\":300},{\"account_id\":\"$SHOP\",\"direction\":\"credit\",\"amount\":300}],\"description\":\"fixture\"}" >/dev/null

post /v1/risk/rules '{"id":"big","name":"big payment","priority":1,"weight":40,"condition":{"field":"amount","op":"gt","value":20000},"actions":[{"type":"review"},{"type":"increase_score","by":40},{"type":"flag"},{"type":"notify"}]}' >/dev/null
post /v1/risk/rules '{"id":"huge","name":"huge payment","priority":2,"condition":{"field":"amount","op":"gt","value":90000},"actions":[{"type":"reject"},{"type":"rate_limit","key":"user","seconds":60},{"type":"require_2fa"}]}' >/dev/null
post /v1/risk/rules '{"id":"evil","name":"blocked device","priority":3,"condition":{"field":"device_id","op":"eq","value":"evil"},"actions":[{"type":"block"}]}' >/dev/null
pay() { post /v1/payments "{\"user_id\":\"$USER\",\"source_account_id\":\"$WALLET\",\"destination_account_id\":\"$SHOP\",\"amount\":$1,\"currency\":\"USD\",\"method\":\"card\",\"device_id\":\"$2\",\"ip_address\":\"203.0.113.9\",\"location\":{\"country\":\"DE\",\"lat\":52.5,\"lon\":13.4}}"; }
P1=$(pay 1000 dev-1 | id)
pay 25000 dev-1 >/dev/null          # review, increase_score, flag, notify
pay 500 evil >/dev/null     # block
pay 95000 dev-1 >/dev/null          # reject, rate_limit, require_2fa
post "/v1/payments/$P1/refunds" '{"amount":400}' >/dev/null
post "/v1/payments/$P1/labels" '{"label":"legitimate","source":"manual"}' >/dev/null
post /v1/settlements "{\"destination_account_id\":\"$SHOP\"}" >/dev/null
post /v1/api-keys '{"name":"reader","role":"reader"}' >/dev/null
curl -sf -H "Authorization: Bearer $KEY" "$B/v1/ledger/verify" | jq -e '.ok == true' >/dev/null
kill $PID; wait $PID 2>/dev/null || true
trap - EXIT
