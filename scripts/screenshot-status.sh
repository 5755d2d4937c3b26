#!/usr/bin/env bash
# Screenshot of brokerfront's HTML status page (admin `GET /`) with headless Chromium.
#
#   scripts/screenshot-status.sh PORT OUT.png
#
# PORT is the admin port of a front running on this machine (admin.bind 127.0.0.1:PORT); only
# 127.0.0.1 is ever contacted. Installs Debian's chromium with apt-get when it is missing.
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
    echo "usage: $0 PORT OUT.png   (PORT: the front's admin port on 127.0.0.1)" >&2
    exit 2
fi
port="$1"
out="$2"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
url="http://127.0.0.1:${port}/"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "installing chromium"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    browser="$(command -v chromium)"
fi

# The page must answer before a browser is started (bounded: 10 s).
for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then break; fi
    sleep 0.2
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    echo "error: nothing listens on 127.0.0.1:${port}" >&2
    exit 1
fi

profile="$(mktemp -d /tmp/brokerfront-chromium.XXXXXX)"
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$out")"
rm -f "$out"
# --virtual-time-budget lets the page's first fetches finish (/status, /status/history for the charts,
# /sessions for the table); the page polls /status every 2 s. Tall enough for the charts and sessions.
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$profile" --virtual-time-budget=3000 \
    --screenshot="$out" --window-size=1280,1700 "$url" 2>"$profile/chromium.log" || {
    cat "$profile/chromium.log" >&2
    exit 1
}
if [ ! -s "$out" ]; then
    cat "$profile/chromium.log" >&2
    echo "error: no screenshot written to $out" >&2
    exit 1
fi
echo "wrote $out"
