#!/usr/bin/env bash
# The payments bench against a `rialto serve` on a fresh SQLite file, with the AML monitor
# every MONITOR_SECONDS (86400: effectively off during the run), then how long the monitor
# takes to evaluate every accepted payment after the load stops. docs/PERFORMANCE.md.
#
#   scripts/aml-bench.sh MONITOR_SECONDS LABEL [BINARY]
set -u
B=${3:-target/release/rialto}
rm -f /tmp/ab.db*
RIALTO_ADMIN_KEY=benchkey RIALTO_AML_MONITOR_SECONDS=$1 $B serve --listen 127.0.0.1:18100 --database sqlite:///tmp/ab.db > /tmp/ab-serve.log 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18100/readyz >/dev/null && break; sleep 0.2; done
out=$($B bench --payments --url http://127.0.0.1:18100 --key benchkey --transfers 20000 2>&1 | grep -E "transfers_per_second|p99" | tr -d " \n")
end=$(date +%s.%N)
if [ "$1" -lt 1000 ]; then
  # How long the monitor takes to catch up after the load stops.
  while true; do
    m=$(sqlite3 /tmp/ab.db "SELECT COUNT(*) FROM aml_monitored" 2>/dev/null || echo 0)
    p=$(sqlite3 /tmp/ab.db "SELECT COUNT(*) FROM payments WHERE transfer_id IS NOT NULL AND status NOT IN ('failed','cancelled')" 2>/dev/null || echo 0)
    [ "$m" -ge "$p" ] && break
    sleep 0.5
  done
  caught=$(echo "$(date +%s.%N) - $end" | bc)
  echo "$2: $out | monitored $m of $p, caught up ${caught}s after the load"
else
  echo "$2: $out"
fi
kill $pid; wait $pid 2>/dev/null
