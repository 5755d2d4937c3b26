#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine, only when missing.
# Swift itself is expected at /opt/swift (or on PATH).
set -euo pipefail

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v prlimit >/dev/null 2>&1 || need+=(util-linux)
# Tests only: HAProxy is a real PROXY-protocol peer (and the benchmark baseline); chromium renders
# the status page. `DEPS=demo` skips them.
if [ "${DEPS:-test}" != "demo" ]; then
    command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    # The Eclipse Paho client, a real MQTT 5 peer for the tests of moved sessions.
    python3 -c "import paho.mqtt.client" >/dev/null 2>&1 || need+=(python3-paho-mqtt)
    # scripts/deploy-checks.sh: the image (podman, runc, debootstrap), the package (dpkg-dev for
    # dpkg-shlibdeps, lintian), the unit (systemd-analyze), the alert rules (promtool), man pages.
    command -v podman >/dev/null 2>&1 || need+=(podman)
    command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
    command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
    command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
    command -v lintian >/dev/null 2>&1 || need+=(lintian)
    command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
    command -v promtool >/dev/null 2>&1 || need+=(prometheus)
    command -v man >/dev/null 2>&1 || need+=(man-db)
    command -v unshare >/dev/null 2>&1 || need+=(util-linux)
    command -v strip >/dev/null 2>&1 || need+=(binutils)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
fi

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# kubernetes-validate (PyPI) for the Kubernetes manifests, in its own virtual environment.
if [ "${DEPS:-test}" != "demo" ] && ! command -v kubernetes-validate >/dev/null 2>&1; then
    venv="${BROKERFRONT_TOOLS:-$HOME/.cache/brokerfront-tools}"
    if [ ! -x "$venv/bin/kubernetes-validate" ]; then
        echo "installing: kubernetes-validate (pip, in $venv)"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate
    fi
    echo "note: kubernetes-validate is in $venv/bin (scripts/deploy-checks.sh adds it to PATH)"
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "note: add /opt/swift/usr/bin to PATH"
    else
        echo "error: no Swift toolchain found (expected swift on PATH or /opt/swift)" >&2
        exit 1
    fi
fi
