#!/usr/bin/env bash
# Runs the otelcol-duo demo: the Duo simulator on loopback (backfill + live events) and
# otelcol-duo with examples/demo.yaml. Ctrl-C stops both. `make run` builds the two
# binaries and calls this script from the repository root.
set -euo pipefail

otelcol=${OTELCOL_BIN:-./build/otelcol-duo}
duosim=${DUOSIM_BIN:-./build/duosim}
addr=${DUOSIM_ADDR:-127.0.0.1:8089}
export DEMO_DIR=${DEMO_DIR:-./build/demo}
export DUOSIM_URL="http://${addr}"
mkdir -p "$DEMO_DIR"

sim_pid=""
col_pid=""

# stop ends one child: SIGTERM, then SIGKILL if it is still there after 15 s.
stop() {
	local pid=$1
	[[ -n "$pid" ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	trap - EXIT INT TERM
	stop "$col_pid"
	stop "$sim_pid"
	echo "demo stopped; records are in $DEMO_DIR/logs.jsonl, cursors in $DEMO_DIR/storage"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 300 events per log type over the last hour, then 0.5 new events a second per type,
# each visible 5 s after it happens (the receiver's delay in demo.yaml is also 5s).
"$duosim" -listen "$addr" -backfill 300 -span 1h -live 0.5 -delay 5s >"$DEMO_DIR/duosim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do
	grep -q 'simulator on' "$DEMO_DIR/duosim.log" 2>/dev/null && break
	kill -0 "$sim_pid" 2>/dev/null || { cat "$DEMO_DIR/duosim.log" >&2; echo "duosim failed to start" >&2; exit 1; }
	sleep 0.1
done
grep -q 'simulator on' "$DEMO_DIR/duosim.log" || { echo "duosim did not start within 10s" >&2; exit 1; }
echo "duosim listening on $DUOSIM_URL (log: $DEMO_DIR/duosim.log)"
echo "starting otelcol-duo with examples/demo.yaml; Ctrl-C to stop"

"$otelcol" --config examples/demo.yaml &
col_pid=$!
status=0
wait "$col_pid" || status=$?
col_pid=""
exit "$status"
