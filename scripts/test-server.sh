# Sourced by the contract test scripts: `start_test_server BINARY DATABASE_URL LOG` starts
# `rialto serve` on a free loopback port with a fresh admin key, sets PORT and KEY, stops the
# server when the calling script exits, and returns once the port accepts connections.
start_test_server() {
    local bin=$1 db=$2 log=$3
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    KEY="rialto_test_$(date +%s%N)"
    "$bin" serve --database "$db" --listen "127.0.0.1:$PORT" --admin-key "$KEY" >"$log" 2>&1 &
    TEST_SERVER_PID=$!
    trap 'kill "$TEST_SERVER_PID" 2>/dev/null || true; wait "$TEST_SERVER_PID" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "rialto serve did not start; its log:" >&2
    cat "$log" >&2
    return 1
}
