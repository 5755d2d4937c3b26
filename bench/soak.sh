#!/usr/bin/env bash
# Soak: SESSIONS MQTT sessions through one release brokerfront to two mosquitto brokers for MINUTES, with
# churn (CHURN of the open sessions disconnect and reconnect per minute) and steady publishing (every
# session publishes one QoS 0 message to its own topic every PUBLISH_INTERVAL seconds and receives it
# back, so lost messages are counted). The front's RSS, open descriptors, CPU time and active
# connections are sampled every SAMPLE seconds into a CSV; at the end a Markdown summary says whether
# RSS and descriptors stayed flat. Not part of CI. All on loopback; every process is ended by PID.
#
#   MINUTES=30 SESSIONS=9000 CHURN=0.10 PUBLISH_INTERVAL=10 SAMPLE=10 bench/soak.sh
#
# Clients: 3 processes of the Python client the fault tests use (Tests/IntegrationTests/FaultScripts.swift,
# extracted between its BEGIN/END lines), each bound to its own 127.0.12.x. The front is the release
# build of bench/lib.sh (.build-bench/release/brokerfront, built when missing); 9,000 sessions need
# 18,000 of its 20,000 descriptors. Exit 0 when the run completed and nothing leaked, 1 otherwise.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MINUTES=${MINUTES:-30} SESSIONS=${SESSIONS:-9000} CHURN=${CHURN:-0.10} PUBLISH_INTERVAL=${PUBLISH_INTERVAL:-10}
SAMPLE=${SAMPLE:-10} CLIENTS=${CLIENTS:-3} WARMUP=${WARMUP:-120}
WORK=$(mktemp -d /tmp/bfsoak.XXXXXX)
trap stop_all EXIT
ensure_binaries
echo "work dir: $WORK" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port) ADMIN=$(free_port) B1=$(free_port) B2=$(free_port)

start_mosquitto "$B1" "$WORK"
start_mosquitto "$B2" "$WORK"

cat > "$WORK/front.yaml" <<CONF
log:
  level: info
drain_timeout: 2s
max_connections: $((SESSIONS + 500))
admin:
  bind: 127.0.0.1:$ADMIN
listeners:
  - name: mqtt
    bind: 127.0.0.1:$PORT
    protocol: mqtt
    backend: brokers
    connect_timeout: 10s
backends:
  - name: brokers
    balance: client-id
    connect_timeout: 3s
    retries: 1
    servers:
      - name: b1
        address: 127.0.0.1:$B1
      - name: b2
        address: 127.0.0.1:$B2
CONF
"$FRONT" run --config "$WORK/front.yaml" > "$WORK/front.out" 2> "$WORK/front.log" &
FRONT_PID=$!
track "$FRONT_PID"
wait_port 127.0.0.1 "$PORT"
wait_port 127.0.0.1 "$ADMIN"

awk '/# BEGIN sessions.py/ {f = 1} f {print} /# END sessions.py/ {f = 0}' \
    "$BENCH_ROOT/Tests/IntegrationTests/FaultScripts.swift" | sed 's/^        //' > "$WORK/sessions.py"
per=$((SESSIONS / CLIENTS))
lifetime=$((MINUTES * 60 + 120))
declare -a CLIENT_PIDS=()
for ((i = 1; i <= CLIENTS; i++)); do
    python3 "$WORK/sessions.py" --port "$PORT" --prefix "soak$i-" --count "$per" --inflight 100 \
        --bind "127.0.12.$i" --echo --publish-interval "$PUBLISH_INTERVAL" --churn "$CHURN" --reconnect 1 \
        --attempt-timeout 20 --lifetime "$lifetime" --report "$SAMPLE" > "$WORK/client$i.out" 2> "$WORK/client$i.err" &
    track $!
    CLIENT_PIDS+=($!)
done
for ((i = 1; i <= CLIENTS; i++)); do
    for ((w = 0; w < 600; w++)); do grep -q '^READY' "$WORK/client$i.out" && break; sleep 0.1; done
    grep '^READY' "$WORK/client$i.out" >&2 || { echo "client $i did not get ready" >&2; exit 1; }
done

metric() { # NAME: the value of an unlabelled-or-summed metric from /metrics
    python3 - "$ADMIN" "$1" <<'PY'
import sys, urllib.request
port, name = sys.argv[1], sys.argv[2]
try:
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
except Exception:
    print(-1); sys.exit()
total = 0.0
for line in text.splitlines():
    if line.startswith(name + "{") or line.startswith(name + " "):
        total += float(line.rsplit(" ", 1)[1])
print(int(total))
PY
}
clients_sum() { # KEY: sum of KEY over the clients' last STATS lines
    local total=0 i v
    for ((i = 1; i <= CLIENTS; i++)); do
        v=$(grep '^STATS' "$WORK/client$i.out" | tail -1 | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

CSV=$WORK/samples.csv
echo "t_s,rss_kib,fds,threads,cpu_s,active,churned,sent,recv,closed,failed" > "$CSV"
start=$(date +%s)
end=$((start + MINUTES * 60))
echo "soak: $SESSIONS sessions, churn $CHURN/min, one message per session every ${PUBLISH_INTERVAL}s, $MINUTES min" >&2
while (($(date +%s) < end)); do
    kill -0 "$FRONT_PID" 2>/dev/null || { echo "the front died" >&2; break; }
    t=$(($(date +%s) - start))
    fds=$(ls "/proc/$FRONT_PID/fd" | wc -l)
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$FRONT_PID/status")
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$FRONT_PID/stat")
    row="$t,$(rss_kib "$FRONT_PID"),$fds,$threads,$cpu,$(metric brokerfront_connections_active)"
    row="$row,$(clients_sum churned),$(clients_sum sent),$(clients_sum recv),$(clients_sum closed),$(clients_sum failed)"
    echo "$row" >> "$CSV"
    echo "$row" >&2
    sleep "$SAMPLE"
done

for pid in "${CLIENT_PIDS[@]}"; do kill -USR2 "$pid" 2>/dev/null || true; done
for ((i = 1; i <= CLIENTS; i++)); do
    for ((w = 0; w < 150; w++)); do grep -q '^FINAL' "$WORK/client$i.out" && break; sleep 0.1; done
done
grep -h '^FINAL' "$WORK"/client*.out > "$WORK/finals.txt" || true
kill -TERM "$FRONT_PID"
wait "$FRONT_PID" && front_exit=0 || front_exit=$?

python3 - "$CSV" "$WORK/finals.txt" "$WARMUP" "$MINUTES" "$SESSIONS" "$CHURN" "$PUBLISH_INTERVAL" "$front_exit" \
    "$WORK/front.log" <<'PY'
import csv, sys
path, finals_path, warmup, minutes, sessions, churn, interval, front_exit, log = sys.argv[1:10]
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(path))]
steady = [r for r in rows if r["t_s"] >= float(warmup)] or rows

def slope(key):  # least squares, per hour
    xs = [r["t_s"] / 3600 for r in steady]; ys = [r[key] for r in steady]
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs) or 1
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den

def window(key, part):  # mean of the first / last quarter of the steady phase
    q = max(1, len(steady) // 4)
    chunk = steady[:q] if part == "first" else steady[-q:]
    return sum(r[key] for r in chunk) / len(chunk)

finals = {}
for line in open(finals_path):
    for word in line.split()[1:]:
        k, v = word.split("=")
        finals[k] = finals.get(k, 0) + float(v)
lines_closed = sum(1 for l in open(log) if "session closed" in l)
rss_first, rss_last = window("rss_kib", "first"), window("rss_kib", "last")
fd_first, fd_last = window("fds", "first"), window("fds", "last")
rss_growth = (rss_last - rss_first) / rss_first * 100
fd_growth = (fd_last - fd_first) / fd_first * 100
flat = abs(rss_growth) < 5 and abs(fd_growth) < 2 and front_exit == "0"
cpu = rows[-1]["cpu_s"] / rows[-1]["t_s"] * 100 if rows[-1]["t_s"] else 0
print("| | |\n|---|---|")
print("| run | %s min, %d sessions, churn %s/min, 1 msg/session/%ss echoed, %d samples (every %ss) |" % (
    minutes, int(sessions), churn, interval, len(rows), int(rows[1]["t_s"] - rows[0]["t_s"]) if len(rows) > 1 else 0))
print("| active connections | min %d, max %d |" % (min(r["active"] for r in steady), max(r["active"] for r in steady)))
print("| sessions churned | %d (%d session-closed log lines) |" % (rows[-1]["churned"], lines_closed))
print("| messages | %d sent, %d received back; %d in flight at unexpected closes |" % (
    finals.get("sent", 0), finals.get("recv", 0), finals.get("lost_closed", 0)))
print("| unexpected closes / failed connects | %d / %d |" % (finals.get("closed", 0), finals.get("failed", 0)))
print("| RSS (after %ss warm-up) | first quarter %.1f MiB, last quarter %.1f MiB (%+.2f%%), slope %+.1f MiB/h, min %.1f max %.1f MiB |" % (
    warmup, rss_first / 1024, rss_last / 1024, rss_growth, slope("rss_kib") / 1024,
    min(r["rss_kib"] for r in steady) / 1024, max(r["rss_kib"] for r in steady) / 1024))
print("| open descriptors | first quarter %.0f, last quarter %.0f (%+.2f%%), slope %+.1f/h |" % (
    fd_first, fd_last, fd_growth, slope("fds")))
print("| front CPU | %.1f%% of a core on average |" % cpu)
print("| front exit on SIGTERM | %s |" % front_exit)
print("| verdict | %s |" % ("flat: no leak" if flat else "NOT FLAT: look at samples.csv"))
sys.exit(0 if flat else 1)
PY
status=$?
echo "samples: $CSV" >&2
exit $status
