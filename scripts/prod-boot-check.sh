#!/usr/bin/env bash
# Reproduces the Dockerfile without Docker and boots the result like the container would:
#   1. build stage: a clean copy of the committed tree (git archive HEAD), npm ci, npm run build
#   2. runtime stage: package*.json + the postinstall script, npm ci --omit=dev --omit=optional (no dev
#      dependencies: no TypeScript, no Prisma CLI), the built dist/, prisma/ (migrations) and the
#      operator page's files (src/ui/assets)
#   3. boot with NODE_ENV=production against a throwaway PostgreSQL database, the partner simulator
#      as partner, wait for GET /health/ready = 200 (the image's HEALTHCHECK command), then
#      SIGTERM and expect exit code 0.
# Used by CI (.ci/run). Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and npm's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

pg_host=${PROD_CHECK_PGHOST:-127.0.0.1}
pg_user=${PROD_CHECK_PGUSER:-postgres}
port=${PROD_CHECK_PORT:-3931}
sim_port=${PROD_CHECK_SIM_PORT:-3932}
work=$(mktemp -d "${TMPDIR:-/tmp}/prod-boot-check.XXXXXX")
db="inv_prodcheck_$(date +%s)_$$"
pids=()

say() { printf '[prod-boot-check] %s\n' "$*"; }
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  psql -h "$pg_host" -U "$pg_user" -d postgres -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
    >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

fail() {
  say "FAILED: $*"
  for f in "$work"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 60 "$f"; }; done
  exit 1
}

build="$work/build"
runtime="$work/runtime"
mkdir -p "$build" "$runtime"

say "build stage: git archive HEAD → npm ci → npm run build"
git -C "$root" archive --format=tar HEAD | tar -x -C "$build"
(cd "$build" && npm ci --no-audit --no-fund --prefer-offline >"$work/build-npm.log" 2>&1) ||
  fail "npm ci in the build stage"
(cd "$build" && npm run -s build >"$work/build.log" 2>&1) || fail "npm run build"

say "runtime stage: npm ci --omit=dev --omit=optional + dist/ + prisma/"
cp "$build/package.json" "$build/package-lock.json" "$runtime/"
mkdir -p "$runtime/scripts"
cp "$build/scripts/prisma-generate.cjs" "$runtime/scripts/"
(cd "$runtime" && NODE_ENV=production npm ci --omit=dev --omit=optional --no-audit --no-fund --prefer-offline \
  >"$work/runtime-npm.log" 2>&1) || fail "npm ci --omit=dev --omit=optional"
cp -R "$build/dist" "$runtime/dist"
cp -R "$build/prisma" "$runtime/prisma"
if [ -d "$build/src/ui/assets" ]; then
  mkdir -p "$runtime/src/ui"
  cp -R "$build/src/ui/assets" "$runtime/src/ui/assets"
fi
for dev in typescript prisma jest @nestjs/cli; do
  [ ! -e "$runtime/node_modules/$dev" ] || fail "dev dependency $dev is in the runtime stage"
done

say "throwaway database $db"
psql -h "$pg_host" -U "$pg_user" -d postgres -qAtc "CREATE DATABASE \"$db\"" >/dev/null ||
  fail "cannot create a database on $pg_host"

partner_key="prod-check-key-$$"
sync_on_boot=false
partner_url="http://127.0.0.1:9"
if [ -f "$build/dist/partner/simulator/main.js" ]; then
  say "partner simulator on port $sim_port"
  (cd "$build" && SIM_PORT=$sim_port SIM_API_KEY=$partner_key exec node dist/partner/simulator/main.js \
    >"$work/simulator.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 1 60); do
    grep -q 'partner simulator listening' "$work/simulator.log" 2>/dev/null && break
    sleep 0.5
  done
  grep -q 'partner simulator listening' "$work/simulator.log" || fail "the simulator did not start"
  partner_url="http://127.0.0.1:$sim_port"
  sync_on_boot=true
else
  say "no partner simulator in this build: booting with SYNC_ON_BOOT=false and a dummy partner URL"
fi

say "boot: NODE_ENV=production node dist/main.js (runtime stage only)"
(cd "$runtime" && exec env -i PATH="$PATH" HOME="$work" NODE_ENV=production PORT="$port" \
  HOST=127.0.0.1 DATABASE_URL="postgresql://$pg_user@$pg_host:5432/$db" \
  PARTNER_API_URL="$partner_url" PARTNER_API_KEY="$partner_key" \
  ADMIN_TOKEN="prod-check-admin-token-$$" SYNC_PRODUCT_IDS=14 SYNC_ON_BOOT=$sync_on_boot \
  SHUTDOWN_TIMEOUT_MS=5000 DATA_DIR="$work/data" node dist/main.js >"$work/service.log" 2>&1) &
service=$!
pids+=("$service")

# The image's HEALTHCHECK command, verbatim apart from the port.
healthcheck() {
  (cd "$runtime" && PORT=$port node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))")
}
ready=false
for _ in $(seq 1 120); do
  if healthcheck; then ready=true; break; fi
  kill -0 "$service" 2>/dev/null || fail "the service exited before it was ready"
  sleep 0.5
done
$ready || fail "GET /health/ready did not answer 200 within 60 s"
say "ready: $(curl -fsS "http://127.0.0.1:$port/health/ready")"
# Read whole before grep: `curl | grep -q` under pipefail fails when grep stops reading early.
metrics=$(curl -fsS "http://127.0.0.1:$port/metrics") || fail "GET /metrics does not answer 200"
grep -q '^inventory_sync_http_request_duration_seconds_count' <<<"$metrics" ||
  fail "GET /metrics lacks the HTTP histogram"
if [ -d "$build/src/ui/assets" ]; then
  curl -fsS -o /dev/null "http://127.0.0.1:$port/" || fail "GET / (operator's page) does not answer 200"
fi

say "SIGTERM"
kill -TERM "$service"
set +e
wait "$service"
code=$?
set -e
[ "$code" -eq 0 ] || fail "the service exited with $code after SIGTERM (expected 0)"
grep -q '"msg":"stopped"' "$work/service.log" || fail "no 'stopped' log line"
if grep -q -e "$partner_key" -e "prod-check-admin-token-$$" "$work/service.log"; then
  fail "a secret appeared in the service log"
fi
say "OK: production-dependencies-only build booted, was ready, and stopped with exit code 0"
