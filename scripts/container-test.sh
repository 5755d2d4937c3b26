#!/usr/bin/env bash
# Runs the real container image: the runtime stage of docker/Dockerfile around a brokerfront binary
# built on this host (release, static Swift stdlib, stripped), on a Debian base made with debootstrap
# (no image registry needed). Two host mosquitto brokers serve behind it; the test checks the
# HEALTHCHECK, the numeric user, a publish/subscribe through the front, then SIGTERM: /healthz turns
# 503 at once, the open session is moved at drain_timeout (`move_rate: 0` keeps it until then) and the container exits 0.
#
#   scripts/container-test.sh                       # builds the binary unless BROKERFRONT_BINARY names one
#
# Prints a `SKIP:` line and exits 0 where podman cannot run containers. The Debian base is cached
# in .build-container/ (debootstrap takes a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
started=$SECONDS

skip() {
    echo "SKIP: container test: $*"
    exit 0
}

PODMAN=(podman --cgroup-manager=cgroupfs --runtime=runc)
command -v podman >/dev/null 2>&1 || skip "podman is not installed (scripts/install-deps.sh installs it)"
command -v runc >/dev/null 2>&1 || skip "runc is not installed"
"${PODMAN[@]}" info >/dev/null 2>&1 || skip "podman cannot run here: $("${PODMAN[@]}" info 2>&1 | tail -1)"

cache=.build-container
mkdir -p "$cache"
suite=$( (. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}") )
base_tar="$cache/debian-$suite-minbase.tar"
base_image="localhost/brokerfront-base:$suite"
image="localhost/brokerfront:container-test"

# --- the Debian base (debootstrap once, then cached: the tarball here, the image in podman's store) ----
if ! "${PODMAN[@]}" image exists "$base_image" && [ ! -s "$base_tar" ]; then
    command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed"
    echo "container-test: debootstrap --variant=minbase $suite (cached in $base_tar afterwards)"
    rootfs="$cache/rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" >"$cache/debootstrap.log" 2>&1 \
        || { tail -20 "$cache/debootstrap.log"; skip "debootstrap failed (no Debian mirror reachable?)"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
    rm -rf "$rootfs"
fi
if ! "${PODMAN[@]}" image exists "$base_image"; then
    "${PODMAN[@]}" import "$base_tar" "$base_image" >/dev/null
fi

# --- the binary ---------------------------------------------------------------------------------------
binary="${BROKERFRONT_BINARY:-}"
if [ -z "$binary" ]; then
    swift build -c release --static-swift-stdlib --product brokerfront
    binary="$(swift build -c release --show-bin-path)/brokerfront"
fi

# --- the runtime stage of docker/Dockerfile, its COPY --from=build taken from the host -----------------
context="$cache/context"
rm -rf "$context"
mkdir -p "$context/staging" "$context/docker"
install -m 0755 "$binary" "$context/staging/brokerfront"
strip "$context/staging/brokerfront"
cp docker/default.yaml "$context/docker/default.yaml"
{
    echo "ARG RUNTIME_IMAGE=$base_image"
    sed -n '/^# ---- runtime stage/,$p' docker/Dockerfile | sed 's#^COPY --from=build /staging/#COPY staging/#'
} >"$context/Dockerfile"
grep -q '^COPY staging/brokerfront' "$context/Dockerfile" || { echo "container-test: runtime stage not found" >&2; exit 1; }
"${PODMAN[@]}" build --quiet --format docker --network=host -t "$image" "$context" >/dev/null

# --- brokers and the front ----------------------------------------------------------------------------
work=$(mktemp -d /tmp/brokerfront-container.XXXXXX)
chmod 0755 "$work"
pids=()
name="brokerfront-test-$$"
cleanup() {
    "${PODMAN[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
    # The test image goes (the Debian base stays cached): runs do not pile up images.
    "${PODMAN[@]}" rmi -f "$image" >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
broker_ports=()
for n in 1 2; do
    port=$(free_port)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto-$n.conf"
    "$mosquitto_bin" -c "$work/mosquitto-$n.conf" >"$work/mosquitto-$n.log" 2>&1 &
    pids+=($!)
    broker_ports+=("$port")
done
front_port=$(free_port)
# The image's HEALTHCHECK asks 127.0.0.1:8404: with --network=host the admin plane binds there when
# that port is free on this machine; otherwise the check is given the port the test picked.
health_override=()
if python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",8404))' 2>/dev/null; then
    admin_port=8404
else
    admin_port=$(free_port)
    health_override=(--health-cmd "[\"/usr/bin/brokerfront\",\"health\",\"--url\",\"http://127.0.0.1:$admin_port/healthz\"]")
    echo "container-test: port 8404 is taken here; the HEALTHCHECK is pointed at $admin_port"
fi
cat >"$work/brokerfront.yaml" <<EOF
admin:
  bind: 127.0.0.1:$admin_port
log:
  level: info
  format: text
drain_timeout: 3s
listeners:
  - name: mqtt
    bind: 127.0.0.1:$front_port
    protocol: mqtt
    backend: brokers
backends:
  - name: brokers
    balance: client-id
    move_rate: 0   # the held session stays through the drain and moves at its end
    servers:
      - { name: b1, address: "127.0.0.1:${broker_ports[0]}" }
      - { name: b2, address: "127.0.0.1:${broker_ports[1]}" }
EOF
chmod 0644 "$work/brokerfront.yaml"

# Limits below this shell's own: runc cannot raise them without CAP_SYS_RESOURCE (sandboxes lack it).
nofile=$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))
"${PODMAN[@]}" run -d --name "$name" --network=host --ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096 \
    "${health_override[@]}" -v "$work/brokerfront.yaml:/etc/brokerfront/brokerfront.yaml:ro" "$image" >/dev/null
fail() {
    echo "container-test: FAIL: $*" >&2
    "${PODMAN[@]}" logs "$name" 2>&1 | tail -30 >&2 || true
    exit 1
}
healthz() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/healthz" || true; }
for _ in $(seq 1 100); do
    [ "$(healthz)" = 200 ] && break
    sleep 0.1
done
[ "$(healthz)" = 200 ] || fail "/healthz never answered 200"
# The image's HEALTHCHECK (brokerfront health, no curl in the image).
"${PODMAN[@]}" healthcheck run "$name" >/dev/null || fail "HEALTHCHECK failed while serving"
user=$("${PODMAN[@]}" inspect --format '{{.Config.User}}' "$image")
[ "$user" = "65532:65532" ] || fail "image user is '$user', not 65532:65532"
pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$name")
grep -q "^Uid:[[:space:]]65532[[:space:]]" "/proc/$pid/status" || fail "the front does not run as uid 65532"

# Publish and subscribe through the front.
timeout 15 mosquitto_sub -h 127.0.0.1 -p "$front_port" -i ct-sub -t ct/topic -C 1 -W 10 >"$work/received" &
sub=$!
for _ in $(seq 1 50); do
    grep -q 'client_id=ct-sub\|"client_id":"ct-sub"' <("${PODMAN[@]}" logs "$name" 2>&1) && break
    curl -s "http://127.0.0.1:$admin_port/status" | grep -q '"active_connections":1' && break
    sleep 0.1
done
# balance: client-id puts each client id on one of the two brokers: publish under a few ids until
# one shares the subscriber's broker (the hash is fixed, so the same id wins every run).
for i in $(seq 1 16); do
    mosquitto_pub -h 127.0.0.1 -p "$front_port" -i "ct-pub-$i" -t ct/topic -m "through-the-container" \
        || fail "publish through the front failed"
    sleep 0.2
    kill -0 "$sub" 2>/dev/null || break
done
wait "$sub" || fail "the subscriber got nothing"
[ "$(cat "$work/received")" = "through-the-container" ] || fail "received '$(cat "$work/received")'"

# SIGTERM with a session open: /healthz 503 at once, the session moved at drain_timeout (3s; move_rate 0
# keeps it until then), exit 0.
timeout 30 mosquitto_sub -h 127.0.0.1 -p "$front_port" -i ct-holder -t ct/hold -k 60 >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 50); do
    curl -s "http://127.0.0.1:$admin_port/status" | grep -q '"active_connections":1' && break
    sleep 0.1
done
"${PODMAN[@]}" kill --signal TERM "$name" >/dev/null
for _ in $(seq 1 50); do
    [ "$(healthz)" = 503 ] && break
    sleep 0.1
done
[ "$(healthz)" = 503 ] || fail "/healthz did not turn 503 during the drain"
"${PODMAN[@]}" healthcheck run "$name" >/dev/null 2>&1 && fail "HEALTHCHECK still passes while draining"
kill -0 "$holder" 2>/dev/null || fail "the open session was closed before drain_timeout"
status=$(timeout 20 "${PODMAN[@]}" wait "$name") || fail "the container did not exit after the drain"
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
logs=$("${PODMAN[@]}" logs "$name" 2>&1)
grep -q "draining" <<<"$logs" || fail "no 'draining' line"
grep -q "drain timeout reached" <<<"$logs" || fail "no 'drain timeout reached' line"
grep -q "client_id=ct-holder.*reason=moved cause=shutdown" <<<"$logs" \
    || fail "the held session was not moved at the drain's end (reason=moved cause=shutdown)"
wait "$holder" 2>/dev/null || true

size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$image")
echo "container-test: OK: image $image ($((size / 1000000)) MB), pub/sub, HEALTHCHECK, uid 65532, SIGTERM drain, exit 0 ($((SECONDS - started)) s)"
