#!/usr/bin/env bash
# Memory per retained task: runs TASKS tasks through a demo's agent (blocking `SendMessage`
# over JSON-RPC, one after the other, `--plan-step-ms 0`: the user's message, WORKING with
# a message, three chunks of report.md, COMPLETED with a message) and reads the memory at
# checkpoints: the demo's RSS, jemalloc's live bytes (`allocated`, on a demo built with
# `--features a2a-sse-demo/jemalloc`) and, with --redis, the `used_memory` of the demo's
# own redis-server. The growth per task is the slope between the second and the last
# checkpoint: by then the shared history (1,024 events in memory, about 10,000 stream
# entries on Redis) is full, so what still grows is what each finished task keeps.
#
#   crates/a2a-sse-bench/retained.sh DEMO_BINARY [--redis] [--tasks 10000] [--every 2000]
#
# The demo runs on CPU 1, the client on CPU 0 (BENCH_SERVER_CPUS, BENCH_LOADGEN_CPUS).
set -euo pipefail
demo="${1:?usage: retained.sh DEMO_BINARY [--redis] [--tasks N] [--every N]}"
shift
redis=0 tasks=10000 every=2000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --redis) redis=1; shift ;;
        --tasks) tasks="$2"; shift 2 ;;
        --every) every="$2"; shift 2 ;;
        *) echo "retained.sh: unexpected argument $1" >&2; exit 2 ;;
    esac
done
server_cpus="${BENCH_SERVER_CPUS:-1}"
client_cpus="${BENCH_LOADGEN_CPUS:-0}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dir="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

args=(--no-simulate --plan-step-ms 0)
redis_port=""
if ((redis)); then
    redis_port="$(free_port)"
    taskset -c "$server_cpus" "${BENCH_REDIS_SERVER:-redis-server}" --port "$redis_port" \
        --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --loglevel warning &
    pids+=($!)
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    args+=(--redis "redis://127.0.0.1:$redis_port")
fi
port="$(free_port)"
RUST_LOG=warn taskset -c "$server_cpus" "$demo" --addr "127.0.0.1:$port" "${args[@]}" \
    >"$dir/demo.log" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done

taskset -c "$client_cpus" python3 - "$port" "$demo_pid" "$tasks" "$every" "$redis_port" <<'EOF'
import http.client, json, re, subprocess, sys, time
port, pid, tasks, every, redis_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"content-type": "application/json", "a2a-version": "1.0"}

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def allocated():
    conn.request("GET", "/metrics")
    page = conn.getresponse().read().decode()
    m = re.search(r'a2a_sse_demo_allocator_bytes\{kind="allocated"\} (\d+)', page)
    return int(m.group(1)) if m else None

def redis_used():
    if not redis_port:
        return None
    info = subprocess.run(["redis-cli", "-p", redis_port, "info", "memory"], capture_output=True, text=True).stdout
    return int(re.search(r"used_memory:(\d+)", info).group(1))

def send(n):
    body = json.dumps({"jsonrpc": "2.0", "id": n, "method": "SendMessage", "params": {"message": {
        "messageId": f"m-{n}", "role": "ROLE_USER", "parts": [{"text": "report"}]}}})
    conn.request("POST", "/a2a/jsonrpc", body, headers)
    answer = json.loads(conn.getresponse().read())
    assert answer["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED", answer

def settle():
    time.sleep(1.5)

points = []
settle()
points.append((0, rss_kib(), allocated(), redis_used()))
started = time.time()
for n in range(1, tasks + 1):
    send(n)
    if n % every == 0:
        settle()
        points.append((n, rss_kib(), allocated(), redis_used()))
took = time.time() - started
print(f"{tasks} tasks in {took:.1f} s")
print("| tasks | RSS KiB | jemalloc allocated KiB | redis used_memory KiB |")
print("|---|---|---|---|")
fmt = lambda v, d=1024: "–" if v is None else f"{v / d:.0f}"
for n, rss, alloc, used in points:
    print(f"| {n} | {rss} | {fmt(alloc)} | {fmt(used)} |")
(n0, r0, a0, u0), (n1, r1, a1, u1) = points[1], points[-1]
span = n1 - n0
per = lambda a, b, scale=1: "–" if a is None or b is None else f"{(b - a) * scale / span:.0f}"
print(f"per task, from {n0} to {n1} tasks: RSS {per(r0, r1, 1024)} B, "
      f"jemalloc allocated {per(a0, a1)} B, redis used_memory {per(u0, u1)} B")
EOF
