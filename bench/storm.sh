#!/usr/bin/env bash
# Reconnect storm, side by side: HAProxy 2.6 and brokerfront, each in front of the same 3 mosquitto
# brokers (m1, m2, m3: fresh processes on free ports per target and run), alternating per run.
#
#   bench/storm.sh        (env: RUNS=3 N=3000 TARGETS="haproxy brokerfront" HOLD=30 MOVE_RATE=500
#                          RECONNECT_MIN=100ms RECONNECT_MAX=5s FRONT_ACTION=evacuate OUT=<file>)
#
# N MQTT 5 clients connect through the proxy (balanced by client id: HAProxy `balance hash` on the CONNECT's
# client identifier with consistent hashing, brokerfront `balance: client-id`), each with a QoS 0 Will on
# storm/<client id>, and hold with `--reconnect` (full-jitter back-off RECONNECT_MIN..RECONNECT_MAX). Once
# all are connected, m1 is taken out:
#   HAProxy      runtime API: `set server brokers/m1 state maint`, `shutdown sessions server brokers/m1`
#                (the servers also have on-marked-down shutdown-sessions);
#   brokerfront  POST /backends/brokers/servers/m1/evacuate (config: move_rate: MOVE_RATE), or with
#                FRONT_ACTION=maint POST .../servers/m1/state {"state":"maint"}. A build without the
#                endpoint answers 404: the run goes on and reports it (action_status=404, nothing closed).
# Per target and run: m1's sessions before, the clients' reconnect peak (most CONNACKs in any 100 ms from
# the first close; x10 = CONNECT/s reaching the surviving brokers), failed reconnects, seconds from the
# first close until every session is connected again (- if not within the HOLD seconds), Wills the brokers
# published (a plain subscriber on storm/# at each broker, directly), server DISCONNECT reasons (0x9C, 0x8B).
# Every process is started fresh and ended by its PID. Raw lines: $WORK/raw.txt; medians to stdout and $OUT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3} N=${N:-3000} HOLD=${HOLD:-30} MOVE_RATE=${MOVE_RATE:-500}
TARGETS=${TARGETS:-"haproxy brokerfront"} FRONT_ACTION=${FRONT_ACTION:-evacuate}
RECONNECT_MIN=${RECONNECT_MIN:-100ms} RECONNECT_MAX=${RECONNECT_MAX:-5s}
WORK=$(mktemp -d /tmp/bfstorm.XXXXXX)
OUT=${OUT:-$WORK/summary.txt}
RAW=$WORK/raw.txt
trap stop_all EXIT
ensure_binaries
command -v haproxy >/dev/null || { echo "haproxy missing" >&2; exit 1; }
echo "work dir: $WORK" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# haproxy_cmd COMMAND: one command on HAProxy's runtime API; prints the answer on one line.
haproxy_cmd() {
    python3 - "$WORK/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
answer = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    answer += chunk
print(answer.decode(errors="replace").strip().replace("\n", " | ") or "ok")
PY
}

write_haproxy_config() { # PORT B1 B2 B3
    cat > "$WORK/haproxy.cfg" <<CONF
global
    maxconn $((2 * N + 1000))
    nbthread 2
    stats socket $WORK/haproxy.sock mode 600 level admin
$(haproxy_mqtt_frontend "$1")
backend brokers
    balance hash req.payload(0,0),mqtt_field_value(connect,client_identifier)
    hash-type consistent
    default-server on-marked-down shutdown-sessions
    server m1 127.0.0.1:$2
    server m2 127.0.0.1:$3
    server m3 127.0.0.1:$4
CONF
}

write_front_config() { # PORT ADMIN B1 B2 B3 BACKEND_LINE [TOP_LINE]
    cat > "$WORK/front.yaml" <<CONF
${7:-}
log:
  level: notice
drain_timeout: 1s
max_connections: $((N + 1000))
admin:
  bind: 127.0.0.1:$2
listeners:
  - name: mqtt
    bind: 127.0.0.1:$1
    protocol: mqtt
    backend: brokers
    connect_timeout: 5s
backends:
  - name: brokers
    balance: client-id
    connect_timeout: 2s
    retries: 2
$6
    servers:
      - name: m1
        address: 127.0.0.1:$3
      - name: m2
        address: 127.0.0.1:$4
      - name: m3
        address: 127.0.0.1:$5
CONF
}

# move_rate goes in the backend, or else at the top level; a build that knows neither refuses the key:
# then run without it and say so.
MOVE_RATE_LINE="    move_rate: $MOVE_RATE" MOVE_RATE_TOP="" MOVE_RATE_WHERE=backend
write_front_config 1 2 3 4 5 "$MOVE_RATE_LINE"
if ! "$FRONT" check --config "$WORK/front.yaml" > "$WORK/front-check.log" 2>&1; then
    MOVE_RATE_LINE="" MOVE_RATE_TOP="move_rate: $MOVE_RATE" MOVE_RATE_WHERE=top
    write_front_config 1 2 3 4 5 "" "$MOVE_RATE_TOP"
    if ! "$FRONT" check --config "$WORK/front.yaml" >> "$WORK/front-check.log" 2>&1; then
        echo "note: this brokerfront does not accept move_rate: $(tr '\n' ' ' < "$WORK/front-check.log")" \
            "- running without it" >&2
        MOVE_RATE_TOP="" MOVE_RATE_WHERE=none
    fi
fi

record() { echo "$*" | tee -a "$RAW" >&2; }

# take_out TARGET ADMIN_PORT: takes m1 out of the proxy; prints what the proxy answered (one word or line).
take_out() {
    case $1 in
    haproxy)
        echo "maint=[$(haproxy_cmd 'set server brokers/m1 state maint')]" \
            "shutdown=[$(haproxy_cmd 'shutdown sessions server brokers/m1')]" ;;
    brokerfront)
        local path=/backends/brokers/servers/m1/evacuate body='{}'
        if [[ $FRONT_ACTION == maint ]]; then path=/backends/brokers/servers/m1/state body='{"state":"maint"}'; fi
        curl -s -o "$WORK/action.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            --max-time 10 -d "$body" "http://127.0.0.1:$2$path" || echo 000 ;;
    esac
}

storm() {
    local target=$1 run=$2 log=$WORK/storm-$1-$2.log b1 b2 b3 port admin bench i m1 action result extra=""
    b1=$(free_port) b2=$(free_port) b3=$(free_port) port=$(free_port) admin=$(free_port)
    start_mosquitto "$b1" "$WORK"
    start_mosquitto "$b2" "$WORK"
    start_mosquitto "$b3" "$WORK"
    case $target in
    haproxy)
        write_haproxy_config "$port" "$b1" "$b2" "$b3"
        haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy-$run.log" 2>&1 &
        track $! ;;
    brokerfront)
        write_front_config "$port" "$admin" "$b1" "$b2" "$b3" "$MOVE_RATE_LINE" "$MOVE_RATE_TOP"
        extra=" move_rate=$MOVE_RATE_WHERE"
        "$FRONT" run --config "$WORK/front.yaml" > "$WORK/front-$run.log" 2>&1 &
        track $!
        wait_port 127.0.0.1 "$admin" ;;
    esac
    wait_port 127.0.0.1 "$port"
    sleep 1
    "$BENCH" run --target "127.0.0.1:$port" --connections "$N" --rate 1000 --concurrency 200 --protocol 5 \
        --keepalive 60 --reconnect --reconnect-min "$RECONNECT_MIN" --reconnect-max "$RECONNECT_MAX" \
        --will-topic storm --watch-wills "127.0.0.1:$b1,127.0.0.1:$b2,127.0.0.1:$b3" --client-id-prefix storm \
        --hold "${HOLD}s" --duration "$((HOLD + 90))s" --progress 1 \
        > "$log.out" 2> "$log" &
    bench=$!
    track $bench
    for ((i = 0; i < 900; i++)); do grep -qs '] hold ' "$log" && break; sleep 0.1; done
    sleep 2
    # m1's sessions: established connections to its port, less the Will watcher's one.
    m1=$(($(ss -Htn state established "( dport = :$b1 )" | wc -l) - 1))
    action=$(take_out "$target" "$admin")
    wait $bench || true
    result=$(grep '^RESULT' "$log.out" || echo "RESULT connected=0")
    record "STORM $target run=$run action_status=${action// /_}$extra m1_sessions=$m1" \
        "connected=$(result_field "$result" connected) failed=$(result_field "$result" failed)" \
        "closed=$(result_field "$result" closed) reconnects=$(result_field "$result" reconnects)" \
        "reconnect_failed=$(result_field "$result" reconnect_failed) settle_s=$(result_field "$result" settle_s)" \
        "peak_connects_100ms=$(result_field "$result" peak_connects_100ms)" \
        "peak_connect_rate=$(result_field "$result" peak_connect_rate) wills=$(result_field "$result" wills)" \
        "disconnect_9c=$(result_field "$result" disconnect_9c) disconnect_8b=$(result_field "$result" disconnect_8b)"
    stop_all
}

echo "raw results: $RAW" >&2
for ((run = 1; run <= RUNS; run++)); do
    for target in $TARGETS; do
        storm "$target" "$run"
        sleep 2
    done
done

# Median and min-max per target and metric, over the runs where the metric is a number.
{
    for target in $TARGETS; do
        for key in m1_sessions closed reconnects reconnect_failed settle_s peak_connect_rate wills disconnect_9c \
            disconnect_8b; do
            values=$( (grep "^STORM $target " "$RAW" || true) | tr ' ' '\n' | awk -F= -v k="$key" \
                '$1 == k && $2 ~ /^[0-9.]+$/ {print $2}' || true)
            if [[ -z $values ]]; then
                echo "STORM $target $key median=- (no run produced a figure)"
                continue
            fi
            read -r med lo hi <<<"$(stats $values)"
            echo "STORM $target $key median=$med min=$lo max=$hi runs=$(wc -w <<<"$values")"
        done
    done
} | tee "$OUT"
