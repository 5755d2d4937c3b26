#!/usr/bin/env bash
# Many processes on one box: SINKS `brokerfront-bench sink` processes sharing ONE ip:port (SO_REUSEPORT),
# FRONTS brokerfront processes sharing one listener (reuse_port), BENCHES bench processes from 50 client
# source IPs. Holds SESSIONS sessions for HOLD, samples memory and sockets, reports. Used by
# bench/ports.sh and bench/scale.sh; all knobs are environment variables:
#
#   SESSIONS=66000 FRONTS=8 BENCHES=4 SINKS=4 FRONT_SOURCE_IPS="127.0.3.1, 127.0.3.2" HOLD=20s \
#   RATE=3000 KEEPALIVE=120 NAME=ports-2ip bench/fleet.sh
#   SOURCE_PORTS=1024-32767 makes the fronts pick source ports themselves (`source_ports`); keep it
#   outside ip_local_port_range when the load generators dial many sessions on the same box (README).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SESSIONS=${SESSIONS:-20000} FRONTS=${FRONTS:-3} BENCHES=${BENCHES:-2} SINKS=${SINKS:-2}
FRONT_SOURCE_IPS=${FRONT_SOURCE_IPS:-"127.0.3.1"} HOLD=${HOLD:-20s} RATE=${RATE:-3000} KEEPALIVE=${KEEPALIVE:-120}
FRONT_MAX=${FRONT_MAX:-9900} NAME=${NAME:-fleet}
SINK_ADDR=127.0.0.1:19000 FRONT_PORT=18900 CLIENT_IPS=${CLIENT_IPS:-127.0.1.1-127.0.1.50}
WORK=$(mktemp -d "/tmp/bf$NAME.XXXXXX")
trap stop_all EXIT
ensure_binaries
echo "work dir: $WORK" >&2

cat > "$WORK/front.yaml" <<CONF
log:
  level: notice
drain_timeout: 1s
max_connections: $FRONT_MAX
listeners:
  - name: mqtt
    bind: 127.0.0.1:$FRONT_PORT
    protocol: mqtt
    backend: sinks
    reuse_port: true
    connect_timeout: 10s
    keepalive_max: 2h
backends:
  - name: sinks
    balance: client-id
    source_ips: [$FRONT_SOURCE_IPS]${SOURCE_PORTS:+
    source_ports: $SOURCE_PORTS}
    connect_timeout: 5s
    retries: 0
    on_server_down: ${ON_SERVER_DOWN:-keep}
    servers:
      - name: sink
        address: $SINK_ADDR
CONF

used0=$(mem_used_kib) slab0=$(slab_kib)
SINK_PIDS=() FRONT_PIDS=() BENCH_RUN_PIDS=()
for ((i = 0; i < SINKS; i++)); do
    "$BENCH" sink --bind $SINK_ADDR --report 0 --duration 30m > "$WORK/sink-$i.log" 2>&1 &
    track $! && SINK_PIDS+=($!)
done
wait_port 127.0.0.1 19000
for ((i = 0; i < FRONTS; i++)); do
    "$FRONT" run --config "$WORK/front.yaml" > "$WORK/front-$i.log" 2>&1 &
    track $! && FRONT_PIDS+=($!)
done
wait_port 127.0.0.1 $FRONT_PORT
sleep 1
rss_sum() { local t=0 p; for p in "$@"; do t=$((t + $(rss_kib "$p"))); done; echo $t; }
front_rss0=$(rss_sum "${FRONT_PIDS[@]}") sink_rss0=$(rss_sum "${SINK_PIDS[@]}")
per=$((SESSIONS / BENCHES))
start=$(date +%s)
for ((i = 0; i < BENCHES; i++)); do
    "$BENCH" run --target 127.0.0.1:$FRONT_PORT --connections $per --rate $((RATE / BENCHES)) \
        --source-ips $CLIENT_IPS --keepalive $KEEPALIVE --hold "$HOLD" --connack-timeout 20s --duration 30m \
        --client-id-prefix "b$i" --progress 2 > "$WORK/bench-$i.out" 2> "$WORK/bench-$i.log" &
    track $! && BENCH_RUN_PIDS+=($!)
done
# Sample once every bench is in its hold phase (plus 10 s), or after the connect phases end.
for ((t = 0; t < 3600; t++)); do
    holding=$( (grep -l ' hold ' "$WORK"/bench-*.log 2>/dev/null || true) | wc -l)
    [[ $holding -ge $BENCHES ]] && break
    sleep 1
done
sleep 5
held=$(ss -Htn state established "( dport = :${SINK_ADDR##*:} )" | wc -l)
by_source=$(ss -Htn state established "( dport = :${SINK_ADDR##*:} )" | awk '{split($3,a,":"); c[a[1]]++} END {for (k in c) printf "%s=%d ", k, c[k]}')
used1=$(mem_used_kib) slab1=$(slab_kib)
front_rss1=$(rss_sum "${FRONT_PIDS[@]}") sink_rss1=$(rss_sum "${SINK_PIDS[@]}") bench_rss1=$(rss_sum "${BENCH_RUN_PIDS[@]}")
for p in "${BENCH_RUN_PIDS[@]}"; do wait "$p" || true; done
elapsed=$(($(date +%s) - start))
connected=0 failed=0 dropped=0 dropped_total=0 refused=0 timeouts=0 pings=0 pongs=0
for ((i = 0; i < BENCHES; i++)); do
    r=$(grep '^RESULT' "$WORK/bench-$i.out" || echo "RESULT connected=0")
    echo "bench $i: $r" >> "$WORK/results.txt"
    connected=$((connected + $(result_field "$r" connected)))
    failed=$((failed + $(result_field "$r" failed)))
    dropped=$((dropped + $(result_field "$r" dropped_in_hold)))
    dropped_total=$((dropped_total + $(result_field "$r" dropped)))
    refused=$((refused + $(result_field "$r" failed_refused)))
    timeouts=$((timeouts + $(result_field "$r" failed_timeout)))
    pings=$((pings + $(result_field "$r" pings))) pongs=$((pongs + $(result_field "$r" pongs)))
done
per_kib() { awk -v d="$1" -v n="$held" 'BEGIN {printf "%.2f", (n ? d / n : 0)}'; }
echo "FLEET name=$NAME sessions_wanted=$SESSIONS connected=$connected failed=$failed refused=$refused" \
    "connack_timeouts=$timeouts dropped_in_hold=$dropped dropped_total=$dropped_total pings=$pings pongs=$pongs upstream_established=$held" \
    "hold=$HOLD elapsed_s=$elapsed" \
    "fronts=$FRONTS benches=$BENCHES sinks=$SINKS front_rss_kib_per_session=$(per_kib $((front_rss1 - front_rss0)))" \
    "sink_rss_kib_per_session=$(per_kib $((sink_rss1 - sink_rss0))) bench_rss_kib_per_session=$(per_kib $bench_rss1)" \
    "system_kib_per_session=$(per_kib $((used1 - used0))) slab_kib_per_session=$(per_kib $((slab1 - slab0)))" \
    "kernel_kib_per_session=$(per_kib $((used1 - used0 - (front_rss1 - front_rss0) - (sink_rss1 - sink_rss0) - bench_rss1)))" \
    | tee -a "$WORK/results.txt"
echo "upstream sessions by source IP: $by_source" | tee -a "$WORK/results.txt"
grep -h "error\|warning" "$WORK"/front-*.log | sort | uniq -c | sort -rn | head -5 || true
