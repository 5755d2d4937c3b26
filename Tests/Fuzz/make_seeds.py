#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into corpus/ (run from anywhere; the files are committed).

corpus/mqtt:   valid CONNECTs of MQTT 3.1, 3.1.1 and 5.0 (minimal, and with every optional field), CONNACKs
               with and without Server Keep Alive, and a pipelined client stream.
corpus/proxy:  PROXY protocol v1 and v2 headers (TCP4, TCP6, UNKNOWN/LOCAL, TLVs, AF_UNIX).
corpus/config: the ones written here, plus copies of the shipped examples (config/*.yaml).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">H", len(b)) + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def props(raw):
    return varint(len(raw)) + raw


def connect(name, level, flags, keepalive, payload, properties=None):
    header = mstr(name) + bytes([level, flags]) + struct.pack(">H", keepalive)
    if properties is not None:
        header += props(properties)
    return packet(0x10, header + payload)


mqtt = {
    # MQTT 3.1: MQIsdp / 3, client id 1..23 bytes.
    "v31-minimal": connect("MQIsdp", 3, 0x02, 60, mstr("sensor-31")),
    "v31-full": connect("MQIsdp", 3, 0x02 | 0x04 | 0x08 | 0x20 | 0x80 | 0x40, 30,
                        mstr("dev31") + mstr("will/31") + mstr(b"bye") + mstr("user") + mstr(b"secret")),
    # MQTT 3.1.1: MQTT / 4; empty client id with clean session.
    "v311-minimal": connect("MQTT", 4, 0x02, 60, mstr("sensor-1")),
    "v311-empty-id": connect("MQTT", 4, 0x02, 0, mstr("")),
    "v311-full": connect("MQTT", 4, 0x02 | 0x04 | 0x10 | 0x20 | 0x80 | 0x40, 240,
                         mstr("dev-311") + mstr("will/t") + mstr(b"\x00\x01gone") + mstr("alice") + mstr(b"pw")),
    # MQTT 5.0: MQTT / 5 with CONNECT properties (session expiry 0x11, receive maximum 0x21, max packet size
    # 0x27, topic alias max 0x22, user property 0x26, auth method 0x15) and Will properties (delay 0x18,
    # payload format 0x01, content type 0x03).
    "v5-minimal": connect("MQTT", 5, 0x02, 60, mstr("sensor-5"), properties=b""),
    "v5-full": connect(
        "MQTT", 5, 0x02 | 0x04 | 0x08 | 0x20 | 0x80 | 0x40, 120,
        mstr("dev-5") + props(b"\x18" + struct.pack(">I", 5) + b"\x01\x01" + b"\x03" + mstr("text/plain"))
        + mstr("will/5") + mstr(b"offline") + mstr("bob") + mstr(b"token"),
        properties=b"\x11" + struct.pack(">I", 3600) + b"\x21" + struct.pack(">H", 20) + b"\x27"
        + struct.pack(">I", 1 << 20) + b"\x22" + struct.pack(">H", 10) + b"\x26" + mstr("k") + mstr("v")
        + b"\x15" + mstr("SCRAM")),
    # Server -> client: CONNACKs (3.1.1; 5.0 plain; 5.0 with Server Keep Alive 0x13 = 30 s).
    "connack-v311": bytes([0x20, 0x02, 0x00, 0x00]),
    "connack-v5": packet(0x20, b"\x00\x00" + props(b"")),
    "connack-v5-keepalive": packet(0x20, b"\x00\x00" + props(b"\x13" + struct.pack(">H", 30) + b"\x21\x00\x0a")),
}
mqtt["stream-connect-publish-disconnect"] = (
    mqtt["v311-minimal"] + packet(0x30, mstr("t/1") + b"hello") + bytes([0xC0, 0x00, 0xE0, 0x00]))

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(command, family, body):
    return SIG + bytes([0x20 | command, family]) + struct.pack(">H", len(body)) + body


def tlv(kind, value):
    return bytes([kind]) + struct.pack(">H", len(value)) + value


ipv4 = bytes([192, 0, 2, 10]) + bytes([10, 0, 0, 1]) + struct.pack(">HH", 51234, 1883)
ipv6 = (bytes.fromhex("20010db8000000000000000000000001") + bytes.fromhex("20010db8000000000000000000000002")
        + struct.pack(">HH", 40000, 8883))
proxy = {
    "v1-tcp4": b"PROXY TCP4 192.0.2.10 10.0.0.1 51234 1883\r\n",
    "v1-tcp6": b"PROXY TCP6 2001:db8::1 2001:db8::2 40000 8883\r\n",
    "v1-unknown": b"PROXY UNKNOWN\r\n",
    "v1-unknown-addresses": b"PROXY UNKNOWN ::1 ::1 1 2\r\n",
    "v1-tcp4-then-connect": b"PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n" + mqtt["v311-minimal"],
    "v2-tcp4": v2(1, 0x11, ipv4),
    "v2-tcp6": v2(1, 0x21, ipv6),
    "v2-local": v2(0, 0x00, b""),
    "v2-unspec": v2(1, 0x00, b""),
    "v2-udp4": v2(1, 0x12, ipv4),
    "v2-unix": v2(1, 0x31, b"/tmp/a".ljust(108, b"\0") + b"/tmp/b".ljust(108, b"\0")),
    "v2-tcp4-tlvs": v2(1, 0x11, ipv4 + tlv(0x01, b"mqtt") + tlv(0x02, b"broker.example")
                       + tlv(0x05, b"\x01\x02\x03") + tlv(0x20, b"\x07" + struct.pack(">I", 0)
                                                          + tlv(0x21, b"TLSv1.3") + tlv(0x22, b"device-42"))
                       + tlv(0x04, b"\0\0")),
}
proxy["v2-tcp4-then-connect"] = proxy["v2-tcp4"] + mqtt["v5-minimal"]

config = {
    "minimal.yaml": b"""listeners:
  - name: mqtt
    bind: 127.0.0.1:1883
    backend: brokers
backends:
  - name: brokers
    servers:
      - address: 127.0.0.1:18831
""",
    "everything.yaml": b"""admin:
  bind: 127.0.0.1:8404
  token: change-me
log:
  level: info
  format: json
drain_timeout: 30s
max_connections: 100000
listeners:
  - name: mqtt
    bind: 0.0.0.0:1883
    protocol: mqtt
    backend: brokers
    reuse_port: false
    max_connections: 0
    accept_proxy_protocol: true
    idle_timeout: 10m
    connect_timeout: 5s
    max_connect_size: 64KiB
    keepalive_factor: 1.5
    keepalive_min: 10s
    keepalive_max: 2h
    limits:
      per_source_ip: 10
      accept_rate: 100
    client_ids:
      allow: ["sensor-*", "*"]
      deny: ["sensor-bad*"]
  - name: redis
    bind: "[::1]:6380"
    protocol: tcp
    backend: redis
backends:
  - name: brokers
    balance: client-id
    source_ips: [127.0.2.1, 127.0.2.2]
    connect_timeout: 2s
    retries: 2
    slow_start: 30s
    send_proxy_protocol: v2
    health_check:
      type: mqtt
      interval: 2s
      timeout: 1s
      rise: 2
      fall: 3
      username: check
      password: secret
    on_server_down: close
    failback: auto
    on_failback: close
    servers:
      - name: b1
        address: 127.0.0.1:1883
        weight: 1
        max_connections: 0
        backup: false
        source_ips: []
      - name: b2
        address: broker-2.example:1883
        weight: 3
        backup: true
  - name: redis
    balance: first
    failback: manual
    on_failback: keep
    health_check:
      type: send-expect
      send: "PING\\r\\n"
      expect: "+PONG"
    servers:
      - address: 127.0.0.1:6379
      - address: 127.0.0.1:6389
        backup: true
""",
    "invalid-keys-and-values.yaml": b"""listeners:
  - name: mqtt
    bind: 127.0.0.1:99999
    bakend: brokers
    connect_timeout: 5 seconds
backends:
  - name: brokers
    balance: sticky
    servers:
      - address: nowhere
        weight: -1
""",
    "invalid-yaml.yaml": b"listeners: [oops\n  - name: {\n",
    "anchors-and-tags.yaml": b"""defaults: &d
  connect_timeout: 1s
listeners:
  - &l
    name: a
    bind: 127.0.0.1:1
    backend: b
  - <<: *l
    name: c
backends:
  - name: b
    servers: [{address: !!str 127.0.0.1:2}]
""",
}


def write(directory, items):
    path = os.path.join(HERE, "corpus", directory)
    os.makedirs(path, exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(path, name if "." in name else name + ".bin"), "wb") as f:
            f.write(data)


write("mqtt", mqtt)
write("proxy", proxy)
write("config", config)
print("wrote %d mqtt, %d proxy, %d config seeds" % (len(mqtt), len(proxy), len(config)))
