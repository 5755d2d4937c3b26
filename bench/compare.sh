#!/usr/bin/env bash
# Side-by-side benchmark: mosquitto directly, HAProxy 2.6 (MQTT inspection + client-id stick table) and
# brokerfront in front of the same mosquitto, alternating per run, on this one machine.
#
#   bench/compare.sh [RUNS]          (default 3; env SCENARIOS="s1 s2 s3", OUT=docs/benchmarks-data.txt)
#
# BROKER=sink puts `brokerfront-bench sink` (one thread, backlog 4,096) where mosquitto is, for connect
# rates without mosquitto's fixed listen backlog of 100 (the "mosquitto" target is then the sink direct).
#
# HOG="BUSY_MS IDLE_MS" runs a noisy neighbour during S3's fixed-rate phase: one process at the default
# priority that spins BUSY_MS then sleeps IDLE_MS, over and over (e.g. HOG="2 2": half a core in bursts).
#
# Every process is started fresh per scenario and target and ended by its PID. Raw RESULT lines and
# samples go to $WORK/raw.txt; the summary (median, min-max) to standard output and $OUT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RUNS=${1:-3}
SCENARIOS=${SCENARIOS:-"s1 s2 s3"}
TARGETS=${TARGETS:-"mosquitto haproxy brokerfront"}
BROKER=${BROKER:-mosquitto}
WORK=$(mktemp -d /tmp/bfcompare.XXXXXX)
OUT=${OUT:-$WORK/summary.txt}
RAW=$WORK/raw.txt
BROKER_PORT=18830 HAPROXY_PORT=18831 FRONT_PORT=18832
CLIENT_IPS=127.0.1.1-127.0.1.50
trap stop_all EXIT
ensure_binaries
command -v haproxy >/dev/null || { echo "haproxy missing: apt-get install -y haproxy" >&2; exit 1; }

cat > "$WORK/haproxy.cfg" <<CONF
global
    maxconn 9800
    nbthread 2
$(haproxy_mqtt_frontend $HAPROXY_PORT)
backend brokers
    stick-table type string len 64 size 200k expire 30m
    stick on req.payload(0,0),mqtt_field_value(connect,client_identifier)
    server m1 127.0.0.1:$BROKER_PORT source 127.0.2.1
    server m2 127.0.0.1:$BROKER_PORT source 127.0.2.2
CONF
# brokerfront's config; a target brokerfront-NAME (e.g. TARGETS="haproxy brokerfront brokerfront-r1")
# runs it with the top-level YAML lines of $FRONT_EXTRA_NAME added (e.g. FRONT_EXTRA_r1="relay_threads: 1")
# and with the executable $FRONT_BIN_NAME if set (another build, for A/B runs).
cat > "$WORK/front.yaml" <<CONF
log:
  level: notice
drain_timeout: 1s
max_connections: 9900
listeners:
  - name: mqtt
    bind: 127.0.0.1:$FRONT_PORT
    protocol: mqtt
    backend: brokers
    connect_timeout: 5s
    keepalive_factor: 1.5
    keepalive_min: 10s
    keepalive_max: 2h
backends:
  - name: brokers
    balance: client-id
    source_ips: [127.0.2.1, 127.0.2.2]
    connect_timeout: 2s
    retries: 2
    servers:
      - name: m1
        address: 127.0.0.1:$BROKER_PORT
CONF

# start_target NAME: a fresh broker (mosquitto, or the sink with BROKER=sink), plus the proxy for NAME;
# sets PORT and PROXY_PID (the broker's PID for the direct target, so its figures are the broker's own).
start_target() {
    if [[ $BROKER == sink ]]; then
        "$BENCH" sink --bind 127.0.0.1:$BROKER_PORT --threads 1 --backlog 4096 > "$WORK/sink.log" 2>&1 &
        MOSQ_PID=$!
        track $MOSQ_PID
        wait_port 127.0.0.1 $BROKER_PORT
    else
        start_mosquitto "$BROKER_PORT" "$WORK"
    fi
    case $1 in
    mosquitto) PORT=$BROKER_PORT PROXY_PID=$MOSQ_PID ;;
    haproxy)
        haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
        PROXY_PID=$! PORT=$HAPROXY_PORT
        track $PROXY_PID
        wait_port 127.0.0.1 $PORT ;;
    brokerfront*)
        local config=$WORK/front.yaml extra binary=FRONT
        if [[ $1 == brokerfront-* ]]; then
            extra=FRONT_EXTRA_${1#brokerfront-} binary=FRONT_BIN_${1#brokerfront-}
            [[ -n ${!binary:-} ]] || binary=FRONT
            config=$WORK/$1.yaml
            { echo "${!extra:-}"; cat "$WORK/front.yaml"; } > "$config"
        fi
        "${!binary}" run --config "$config" > "$WORK/$1.log" 2>&1 &
        PROXY_PID=$! PORT=$FRONT_PORT
        track $PROXY_PID
        wait_port 127.0.0.1 $PORT ;;
    esac
    sleep 1
}

record() { echo "$*" | tee -a "$RAW" >&2; }

# S1: 9,000 idle sessions held; proxy RSS delta and system memory delta per session.
s1() {
    local target=$1 run=$2 log=$WORK/s1-$1-$2.log rss0 sys0 slab0 rss1 sys1 slab1 result n i
    start_target "$target"
    rss0=$(rss_kib $PROXY_PID) sys0=$(mem_used_kib) slab0=$(slab_kib)
    "$BENCH" run --target 127.0.0.1:$PORT --connections 9000 --rate 3000 --source-ips $CLIENT_IPS \
        --keepalive 60 --hold 15s --duration 90s --progress 1 > "$log.out" 2> "$log" &
    local bench=$!
    track $bench
    for ((i = 0; i < 600; i++)); do grep -q ' hold ' "$log" && break; sleep 0.1; done
    sleep 5
    rss1=$(rss_kib $PROXY_PID) sys1=$(mem_used_kib) slab1=$(slab_kib)
    wait $bench || true
    result=$(grep '^RESULT' "$log.out" || echo "RESULT connected=0")
    n=$(result_field "$result" connected)
    record "S1 $target run=$run sessions=$n dropped=$(result_field "$result" dropped)" \
        "rss_kib_per_session=$(awk -v a=$rss0 -v b=$rss1 -v n=$n 'BEGIN{printf "%.2f", (b-a)/(n?n:1)}')" \
        "sys_kib_per_session=$(awk -v a=$sys0 -v b=$sys1 -v n=$n 'BEGIN{printf "%.2f", (b-a)/(n?n:1)}')" \
        "slab_kib_per_session=$(awk -v a=$slab0 -v b=$slab1 -v n=$n 'BEGIN{printf "%.2f", (b-a)/(n?n:1)}')"
    stop_all
}

# S2: 20,000 connects, at most 2,000 awaiting CONNACK, each closed after its CONNACK.
s2() {
    local target=$1 run=$2 log=$WORK/s2-$1-$2.log result p0 b0 p1 b1 n
    start_target "$target"
    p0=$(cpu_us $PROXY_PID) b0=$(cpu_us $MOSQ_PID)
    "$BENCH" run --target 127.0.0.1:$PORT --connections 20000 --concurrency 2000 --churn \
        --source-ips $CLIENT_IPS --threads 1 --duration 120s --progress 1 > "$log.out" 2> "$log" || true
    p1=$(cpu_us $PROXY_PID) b1=$(cpu_us $MOSQ_PID)
    result=$(grep '^RESULT' "$log.out" || echo "RESULT connected=0")
    n=$(result_field "$result" connected)
    record "S2 $target run=$run connected=$n failed=$(result_field "$result" failed)" \
        "connack_per_s=$(result_field "$result" connack_per_s) connack_p50_ms=$(result_field "$result" connack_p50_ms)" \
        "connack_p99_ms=$(result_field "$result" connack_p99_ms)" \
        "proxy_cpu_us_per_connect=$(awk -v a=$p0 -v b=$p1 -v n=$n 'BEGIN{printf "%.1f", (b-a)/(n?n:1)}')" \
        "broker_cpu_us_per_connect=$(awk -v a=$b0 -v b=$b1 -v n=$n 'BEGIN{printf "%.1f", (b-a)/(n?n:1)}')"
    stop_all
}

# start_hog BUSY_MS IDLE_MS: the noisy neighbour of HOG, bounded at 60 s, ended with the others.
start_hog() {
    python3 -c '
import sys, time
busy, idle, end = float(sys.argv[1]) / 1e3, float(sys.argv[2]) / 1e3, time.monotonic() + 60
while time.monotonic() < end:
    start = time.monotonic()
    while time.monotonic() - start < busy:
        pass
    time.sleep(idle)' "$1" "$2" &
    track $!
}

# S3: 100 connections (50 subscriber/publisher pairs), 64 B QoS 0: saturation (window 32 per pair), then a
# fixed 20,000 msg/s for round trips and proxy CPU per message.
s3() {
    local target=$1 run=$2 log=$WORK/s3-$1-$2.log sat fixed cpu0 cpu1 total
    start_target "$target"
    "$BENCH" run --target 127.0.0.1:$PORT --connections 100 --pairs 50 --window 32 --payload-size 64 --qos 0 \
        --source-ips $CLIENT_IPS --hold 10s --warmup 2s --duration 60s --progress 0 > "$log.sat" 2>&1 &
    local bench=$! p0 b0 g0 p1 b1 g1
    track $bench
    # Where the two cores go at saturation: CPU of proxy, broker and load generator over 6 s of the hold.
    sleep 4
    p0=$(cpu_us $PROXY_PID) b0=$(cpu_us $MOSQ_PID) g0=$(cpu_us $bench)
    sleep 6
    p1=$(cpu_us $PROXY_PID) b1=$(cpu_us $MOSQ_PID) g1=$(cpu_us $bench)
    wait $bench || true
    sat=$(grep '^RESULT' "$log.sat" || echo "RESULT msgs_per_s=0")
    record "S3 $target run=$run sat_cores_proxy=$(awk -v a=$p0 -v b=$p1 'BEGIN{printf "%.2f", (b-a)/6e6}')" \
        "sat_cores_broker=$(awk -v a=$b0 -v b=$b1 'BEGIN{printf "%.2f", (b-a)/6e6}')" \
        "sat_cores_bench=$(awk -v a=$g0 -v b=$g1 'BEGIN{printf "%.2f", (b-a)/6e6}')"
    stop_all
    start_target "$target"
    [[ -z ${HOG:-} ]] || start_hog $HOG
    cpu0=$(cpu_us $PROXY_PID)
    "$BENCH" run --target 127.0.0.1:$PORT --connections 100 --pairs 50 --publish-rate 20000 --payload-size 64 \
        --qos 0 --source-ips $CLIENT_IPS --hold 12s --warmup 2s --duration 60s --progress 0 > "$log.fixed" 2>&1 || true
    cpu1=$(cpu_us $PROXY_PID)
    fixed=$(grep '^RESULT' "$log.fixed" || echo "RESULT msgs_received_total=0")
    total=$(result_field "$fixed" msgs_received_total)
    record "S3 $target run=$run sat_msgs_per_s=$(result_field "$sat" msgs_per_s)" \
        "fixed_msgs_per_s=$(result_field "$fixed" msgs_per_s) rtt_p50_ms=$(result_field "$fixed" rtt_p50_ms)" \
        "rtt_p99_ms=$(result_field "$fixed" rtt_p99_ms) dropped=$(result_field "$fixed" dropped)" \
        "cpu_us_per_msg=$(awk -v a=$cpu0 -v b=$cpu1 -v n=$total 'BEGIN{printf "%.2f", (b-a)/(n?n:1)}')"
    stop_all
}

echo "raw results: $RAW (broker: $BROKER)" >&2
for ((run = 1; run <= RUNS; run++)); do
    for scenario in $SCENARIOS; do
        for target in $TARGETS; do
            $scenario "$target" "$run"
            sleep 2
        done
    done
done

# Summary: median and min-max per scenario, target and metric.
summarize() {
    local scenario=$1 target key values
    shift
    for target in $TARGETS; do
        for key in "$@"; do
            values=$( (grep "^$scenario $target " "$RAW" || true) | tr ' ' '\n' | awk -F= -v k="$key" '$1 == k {print $2}' || true)
            [[ -z $values ]] && continue
            read -r med lo hi <<<"$(stats $values)"
            echo "$scenario $target $key median=$med min=$lo max=$hi"
        done
    done
}
{
    summarize S1 sessions rss_kib_per_session sys_kib_per_session slab_kib_per_session
    summarize S2 connected failed connack_per_s connack_p50_ms connack_p99_ms proxy_cpu_us_per_connect broker_cpu_us_per_connect
    summarize S3 sat_msgs_per_s sat_cores_proxy sat_cores_broker sat_cores_bench rtt_p50_ms rtt_p99_ms cpu_us_per_msg dropped
} | tee "$OUT"
