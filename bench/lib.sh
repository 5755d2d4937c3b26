# Shared helpers for bench/*.sh: start/stop processes by PID, sample memory and CPU, parse RESULT lines.
# Every process a script starts is recorded in $BENCH_PIDS and ended by PID on exit.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_BIN=${BENCH_BIN:-$BENCH_ROOT/.build-bench/release}
BENCH=${BENCH:-$BENCH_BIN/brokerfront-bench}
FRONT=${FRONT:-$BENCH_BIN/brokerfront}
BENCH_PIDS=()

ensure_binaries() {
    if [[ ! -x $BENCH || ! -x $FRONT ]]; then
        (cd "$BENCH_ROOT" && swift build -c release --scratch-path "$BENCH_ROOT/.build-bench") >&2
    fi
}

track() { BENCH_PIDS+=("$1"); }

# Scripts set `trap stop_all EXIT`; make SIGTERM/SIGINT (e.g. from `timeout`) run it too.
trap 'exit 143' TERM
trap 'exit 130' INT

# stop_pid PID: SIGTERM, wait up to 15 s, then SIGKILL. Only PIDs this script started are passed here.
stop_pid() {
    local pid=$1 i
    [[ -z $pid ]] && return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    return 0
}

stop_all() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
    BENCH_PIDS=()
}

# wait_port HOST PORT: until something accepts there (at most 10 s).
wait_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $1:$2" >&2
    return 1
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Used system memory (MemTotal - MemAvailable) in KiB: user and kernel memory of everything.
mem_used_kib() { awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t-a}' /proc/meminfo; }

# Kernel slab memory in KiB (socket structures live here).
slab_kib() { awk '/^Slab:/ {print $2}' /proc/meminfo; }

# CPU time of all threads of PID in microseconds (schedstat: ns on CPU).
cpu_us() {
    local total=0 f v
    for f in /proc/"$1"/task/*/schedstat; do
        read -r v _ < "$f" 2>/dev/null && total=$((total + v))
    done
    echo $((total / 1000))
}

# result_field LINE KEY: the value of KEY in a RESULT line.
result_field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# stats VALUES...: "median min max" of numbers (median of an even count: the lower middle).
stats() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; printf "%s %s %s\n", m, v[1], v[NR]}'
}

# haproxy_mqtt_frontend PORT: HAProxy's defaults and its MQTT frontend on 127.0.0.1:PORT (a CONNECT must
# pass mqtt_is_valid) to backend `brokers`; the scripts' configs add `global` before it and the backend after.
haproxy_mqtt_frontend() {
    cat <<CONF
defaults
    mode tcp
    timeout connect 2s
    timeout client 90s
    timeout server 90s
frontend mqtt
    bind 127.0.0.1:$1
    tcp-request inspect-delay 5s
    tcp-request content reject unless { req.payload(0,0),mqtt_is_valid }
    default_backend brokers
CONF
}

start_mosquitto() { # PORT LOGDIR
    cat > "$2/mosquitto-$1.conf" <<CONF
listener $1 127.0.0.1
allow_anonymous true
max_connections -1
persistence false
log_dest none
max_queued_messages 100000
CONF
    mosquitto -c "$2/mosquitto-$1.conf" > "$2/mosquitto-$1.log" 2>&1 &
    track $!
    MOSQ_PID=$!
    wait_port 127.0.0.1 "$1"
}
