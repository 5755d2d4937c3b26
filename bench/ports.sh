#!/usr/bin/env bash
# Port exhaustion, reproduced and beaten (docs/benchmarks.md, "Port exhaustion"). Every upstream session
# goes to ONE ip:port, 127.0.0.1:19000, served by several `brokerfront-bench sink` processes (SO_REUSEPORT).
#   1. brokerfront with one source IP: upstream sessions stop near the size of net.ipv4.ip_local_port_range.
#   2. brokerfront with two source IPs: past one IP's range, then connect() slows (see the doc).
#   3. brokerfront with five source IPs: past 64k upstream sessions to that single destination.
#   4. brokerfront with two source IPs and `source_ports: 1024-65535` (the front picks ports itself):
#      past 64k to that single destination, beyond the kernel's range and without its port search.
set -euo pipefail
cd "$(dirname "$0")"
echo "ip_local_port_range: $(sysctl -n net.ipv4.ip_local_port_range | tr '\t' ' ')" >&2
SESSIONS=${SESSIONS_ONE:-36000} FRONTS=4 BENCHES=2 SINKS=2 FRONT_SOURCE_IPS="127.0.3.1" HOLD=${HOLD:-30s} \
    RATE=${RATE:-2000} NAME=ports-1ip ./fleet.sh
SESSIONS=${SESSIONS_TWO:-67200} FRONTS=8 BENCHES=4 SINKS=4 FRONT_SOURCE_IPS="127.0.4.1, 127.0.4.2" HOLD=${HOLD:-30s} \
    RATE=${RATE:-2000} NAME=ports-2ip ./fleet.sh
SESSIONS=${SESSIONS_TWO:-67200} FRONTS=8 BENCHES=4 SINKS=4 FRONT_SOURCE_IPS="127.0.6.1, 127.0.6.2, 127.0.6.3, 127.0.6.4, 127.0.6.5" \
    HOLD=${HOLD:-30s} RATE=${RATE:-2000} NAME=ports-5ip ./fleet.sh
SESSIONS=${SESSIONS_TWO:-67200} FRONTS=8 BENCHES=4 SINKS=4 FRONT_SOURCE_IPS="127.0.7.1, 127.0.7.2" \
    SOURCE_PORTS=1024-65535 HOLD=${HOLD:-30s} RATE=${RATE:-2000} NAME=ports-2ip-source-ports ./fleet.sh
