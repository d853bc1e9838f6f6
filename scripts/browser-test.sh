#!/usr/bin/env bash
# Real-browser test of the axum demo page: builds the demo, then drives headless Chromium
# (/usr/bin/chromium + /usr/bin/chromedriver, from Debian's chromium and chromium-driver)
# with selenium against it: the plans view, the send box and reply box on the demo's agent,
# raw events, the plan filter, notices (crates/a2a-sse-axum/tests/browser/demo_page.py says
# what it proves). Screenshots land in target/browser/ (demo.png, demo-filtered.png; failure.png
# on failure), with the server's log; BROWSER_ARTIFACTS moves them.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -p a2a-sse-axum --example demo
python3 -c 'import selenium' 2>/dev/null || python3 -m pip install --quiet selenium

target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
exec python3 crates/a2a-sse-axum/tests/browser/demo_page.py "$target_dir/debug/examples/demo"
