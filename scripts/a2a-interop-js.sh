#!/usr/bin/env bash
# Interop test of the A2A binding with the official JavaScript client (`@a2a-js/sdk`, the
# version pinned by crates/a2a-sse-demo/tests/a2a_interop_js/package-lock.json) on the
# machine's Node.js (20 or later): builds both demos (a no-op when they are up to date),
# installs the client into the cargo target dir's a2a-interop-js/ with `npm ci` (only when
# it is missing there or the lockfile changed, so a second run needs no network), then for
# each demo: starts it on a free loopback port (the port read from its banner) with push
# notifications on (loopback receivers allowed, signed with a fixed test secret), runs
# interop.test.mjs against it with node's test runner (its webhook receiver on loopback
# too), stops it. The demos' logs land in that directory too. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=crates/a2a-sse-demo/tests/a2a_interop_js
# The demos' Standard Webhooks signing secret: a fixed test value (the test verifies the
# deliveries' signatures with it).
push_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

command -v node >/dev/null || { echo "a2a-interop-js: node is not installed" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "a2a-interop-js: Node.js $(node --version) is too old; @a2a-js/sdk needs 20 or later" >&2
  exit 1
fi

cargo build -p a2a-sse-axum --example demo -p a2a-sse-actix --example actix-demo

target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
work="$target_dir/a2a-interop-js"
mkdir -p "$work"

# The client, unless this lockfile is installed already (its copy is the stamp).
cp "$tests/package.json" "$tests/package-lock.json" "$tests/interop.test.mjs" "$work/"
stamp="$work/node_modules/.a2a-interop-lock.json"
if ! cmp -s "$tests/package-lock.json" "$stamp" || [ ! -d "$work/node_modules/@a2a-js/sdk" ]; then
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$tests/package-lock.json" "$stamp"
fi
sdk_version=$(node -p "require('$work/node_modules/@a2a-js/sdk/package.json').version")
echo "@a2a-js/sdk $sdk_version on Node.js $(node --version)"

demo_pid=""
stop_demo() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill "$demo_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  demo_pid=""
}
trap stop_demo EXIT

# Starts a demo on a free port; sets demo_pid and demo_url.
start_demo() {
  local name=$1 binary=$2 log="$work/$1.log"
  : > "$log"
  "$binary" --addr 127.0.0.1:0 --no-simulate --keep-alive-ms 2000 --plan-step-ms 50 \
    --push --push-allow-host 127.0.0.1 --push-secret "$push_secret" > "$log" 2>&1 &
  demo_pid=$!
  demo_url=""
  for _ in $(seq 1 300); do
    demo_url=$(sed -n 's/.*listening on \(http:\/\/[^[:space:]]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$demo_url" ] && break
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$demo_url" ]; then
    echo "a2a-interop-js: the $name demo printed no address; see $log" >&2
    return 1
  fi
  for _ in $(seq 1 300); do
    if node -e "fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" \
      "$demo_url/.well-known/agent-card.json"; then
      return 0
    fi
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "a2a-interop-js: the $name demo does not answer at $demo_url; see $log" >&2
  return 1
}

failed=()
for demo in "axum:$target_dir/debug/examples/demo" "actix:$target_dir/debug/examples/actix-demo"; do
  name=${demo%%:*}
  binary=${demo#*:}
  echo "==> @a2a-js/sdk against the $name demo"
  if start_demo "$name" "$binary"; then
    echo "$name demo at $demo_url (log: $work/$name.log)"
    if ! (cd "$work" && A2A_DEMO_URL="$demo_url" A2A_WEBHOOK_SECRET="$push_secret" node --test --test-reporter=spec interop.test.mjs); then
      failed+=("$name")
    fi
  else
    failed+=("$name")
  fi
  stop_demo
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "a2a-interop-js: FAILED against: ${failed[*]}" >&2
  exit 1
fi
echo "a2a-interop-js: both demos passed"
