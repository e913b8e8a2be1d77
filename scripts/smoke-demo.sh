#!/usr/bin/env bash
# Boots `npm run demo` as a new user would (embedded database in a fresh DATA_DIR) and checks
# that it answers. Used by CI; handy after changing the boot path.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
port=${SMOKE_PORT:-3917}
log="$data/demo.log"
# In a process group of its own: npm's child (the service) must stop with it, not outlive CI.
DATA_DIR="$data/data" PORT=$port setsid npm run -s demo >"$log" 2>&1 &
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
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "demo exited early:"; cat "$log"; exit 1; fi
  sleep 1
done
echo "demo did not answer /health within 90 s:"; cat "$log"; exit 1
