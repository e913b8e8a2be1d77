#!/usr/bin/env bash
# Boots `npm run demo` as a new user would (embedded database in a fresh DATA_DIR) and checks
# that it answers. Used by CI; handy after changing the boot path.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
port=${SMOKE_PORT:-3917}
log="$data/demo.log"
# In a process group of its own: npm's child (the service) must stop with it, not outlive CI.
# Reads are flushed every second (not 10): the check below waits for one.
DATA_DIR="$data/data" PORT=$port READ_DEMAND_FLUSH_MS=1000 setsid npm run -s demo >"$log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 90); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
    echo "demo answers /health: $(curl -fsS "http://127.0.0.1:$port/health")"
    # A slots read is counted and written to the embedded database (status `learned`).
    today=$(date -u +%F)
    curl -fsS "http://127.0.0.1:$port/api/v1/experience/14/slots?date=$today" >/dev/null
    for _ in $(seq 1 30); do
      status=$(curl -fsS "http://127.0.0.1:$port/api/v1/experience/sync/status")
      if grep -q '"flushedReads":[1-9]' <<<"$status"; then
        echo "demo counted the read: $(grep -o '"readCounter":{[^}]*}' <<<"$status")"
        exit 0
      fi
      sleep 1
    done
    echo "demo did not write the read it served within 30 s:"; echo "$status"; cat "$log"; exit 1
  fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "demo exited early:"; cat "$log"; exit 1; fi
  sleep 1
done
echo "demo did not answer /health within 90 s:"; cat "$log"; exit 1
