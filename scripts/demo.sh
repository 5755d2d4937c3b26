#!/usr/bin/env bash
# `make demo`: two local mosquitto brokers and brokerfront in front of them with config/demo.yaml.
# Ctrl-C stops the front (it drains), then the brokers this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

DEPS=demo scripts/install-deps.sh
swift build -c release --product brokerfront
bin="$(swift build -c release --show-bin-path)/brokerfront"

work="$(mktemp -d /tmp/brokerfront-demo.XXXXXX)"
chmod 777 "$work"   # mosquitto drops root privileges to its own user
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
for port in 18831 18832; do
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\nlog_type error\nlog_type warning\n' \
        "$port" > "$work/mosquitto-$port.conf"
    "$mosquitto_bin" -c "$work/mosquitto-$port.conf" &
    pids+=($!)
done
sleep 0.5

cat <<MSG
brokers: 127.0.0.1:18831 (b1), 127.0.0.1:18832 (b2)
front:   127.0.0.1:1883   admin: http://127.0.0.1:8404/status  /metrics
try:     mosquitto_sub -h 127.0.0.1 -p 1883 -t demo -i sub-1 -v &
         mosquitto_pub -h 127.0.0.1 -p 1883 -t demo -i sub-1x -m hello
         (the same client id always lands on the same broker; see "session closed" lines)
MSG
"$bin" run --config config/demo.yaml &
front=$!
pids=("$front" "${pids[@]}")
wait "$front"
