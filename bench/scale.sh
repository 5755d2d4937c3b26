#!/usr/bin/env bash
# Scale: as many held sessions as this box allows, clients, fronts and sinks all on it.
#   bench/scale.sh [SESSIONS]   (default 300000; env HOLD=2m RATE=2500 KEEPALIVE=120)
# Processes: one front per ~9,000 sessions (shared reuse_port listener, cap 9,900 each), one bench per
# ~18,800, one sink per ~18,000 (all on one ip:port), fronts dialing from 32 source IPs so that no IP holds
# more than ~half the ephemeral range (see docs/benchmarks.md, "Port exhaustion").
set -euo pipefail
cd "$(dirname "$0")"
N=${1:-300000}
SESSIONS=$N FRONTS=$(((N + 8999) / 9000)) BENCHES=$(((N + 18799) / 18800)) SINKS=$(((N + 17999) / 18000)) \
    FRONT_SOURCE_IPS="$(seq -s ', ' -f '127.0.5.%g' 1 32)" HOLD=${HOLD:-2m} RATE=${RATE:-2500} \
    KEEPALIVE=${KEEPALIVE:-120} NAME=scale-$N ./fleet.sh
