import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// Admission before the CONNECT, seen from the client: `per_source_ip` counts a connection from its
/// accept (after the PROXY header on a PROXY listener), `accept_rate` paces TLS handshakes,
/// `max_pending_connect_bytes` bounds what unfinished CONNECTs hold, and `accept_proxy_protocol`
/// takes headers from trusted senders only. A refusal before any MQTT byte is a close with no bytes.
@Suite("Admission before the CONNECT")
struct AdmissionTests {
    /// Waits until `brokerfront_connections_rejected_total{reason}` reaches `count`.
    static func rejected(_ front: RunningFront, _ reason: String, _ count: Double, listener: String = "mqtt") async
        -> Bool
    {
        await Poll.until(timeout: .seconds(5)) {
            front.metric("brokerfront_connections_rejected_total", ["listener": listener, "reason": reason]) == count
        }
    }

    /// Connects from `source`, sends `bytes` (maybe none) and returns all it gets until the close.
    static func closedUnread(port: Int, from source: String, sending bytes: [UInt8] = []) async throws -> [UInt8] {
        let client = try await TestClient.connect(port: port, bindTo: source, sending: bytes)
        let answer = try await client.readUntilClose(timeout: .seconds(5))
        await client.close()
        return answer
    }

    @Test(
        "per_source_ip 2 counts from accept: two silent connections hold one IP's slots; a third is closed with no bytes (limit); another IP is served",
        arguments: [true, false])
    func perSourceIPFromAccept(onRelayThreads: Bool) async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.limits.perSourceIP = 2
                $0.connectTimeout = .seconds(30)
            }
            if !onRelayThreads { config.relayThreads = 0 }
            try await withFront(config.withPatientDials) { front in
                let port = try front.port()
                // Silent: not one byte of MQTT.
                let idle = [
                    try await TestClient.connect(port: port, bindTo: "127.0.7.1"),
                    try await TestClient.connect(port: port, bindTo: "127.0.7.1"),
                ]
                #expect(await front.waitForActive(2))
                let connect = MQTTConnect(version: .v3_1_1, clientID: "third").encode()
                let answer = try await Self.closedUnread(port: port, from: "127.0.7.1", sending: connect)
                #expect(answer.isEmpty, "\(TestClientError.hex(answer))")
                #expect(await Self.rejected(front, "limit", 1), "\(front.metricsText)")
                let refused = front.logs.sessionsClosed.filter { $0["reason"] == "limit" }
                #expect(refused.count == 1 && refused.first?["client"]?.hasPrefix("127.0.7.1:") == true)

                let (other, otherCode) = try await MQTTTestClient.connect(
                    port: port, clientID: "other-ip", bindTo: "127.0.7.2")
                #expect(otherCode == 0)
                // A silent connection that goes frees its slot.
                await idle[0].close()
                #expect(await front.waitForActive(2))
                let (again, againCode) = try await MQTTTestClient.connect(
                    port: port, clientID: "again", bindTo: "127.0.7.1")
                #expect(againCode == 0)
                #expect(!broker.clientsConnected().contains { $0.clientID == "third" })
                await other.disconnect()
                await again.disconnect()
                await idle[1].close()
                #expect(await front.waitForActive(0))
            }
        }
    }

    @Test(
        "per_source_ip 1 on a TLS listener: a second silent TCP connection from the IP is closed before any handshake")
    func perSourceIPBeforeHandshake() async throws {
        try await TLSTests.withTLSFront(
            clientCA: false,
            listener: {
                $0.limits.perSourceIP = 1
                $0.connectTimeout = .seconds(30)
            }
        ) { front, _, certificates, _ in
            let port = try front.port()
            let idle = try await TestClient.connect(port: port, bindTo: "127.0.7.3")
            #expect(await front.waitForActive(1))
            let answer = try await Self.closedUnread(port: port, from: "127.0.7.3")
            #expect(answer.isEmpty, "\(TestClientError.hex(answer))")
            #expect(await Self.rejected(front, "limit", 1), "\(front.metricsText)")
            #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "tls"]) == 0)
            let served = try await TLSTests.publish(port: port, certificates: certificates, clientID: "tls-other")
            #expect(served.status == 0, "\(served.stderr)")
            await idle.close()
        }
    }

    @Test(
        "per_source_ip 1 on a PROXY listener counts the header's client: a second header for it is closed with no bytes; another client is served"
    )
    func perSourceIPAfterProxyHeader() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.acceptProxyProtocol = true
                $0.limits.perSourceIP = 1
                $0.connectTimeout = .seconds(30)
            }
            try await withFront(config.withPatientDials) { front in
                let port = try front.port()
                func header(_ ip: String) -> [UInt8] { Array("PROXY TCP4 \(ip) 127.0.0.1 5000 1883\r\n".utf8) }
                // All from 127.0.0.1, as through one balancer; the header names the client.
                let held = try await TestClient.connect(port: port, sending: header("198.51.100.7"))
                #expect(await front.waitForActive(1))
                let connect = MQTTConnect(version: .v3_1_1, clientID: "pp-second").encode()
                let answer = try await Self.closedUnread(
                    port: port, from: "127.0.0.1", sending: header("198.51.100.7") + connect)
                #expect(answer.isEmpty, "\(TestClientError.hex(answer))")
                #expect(await Self.rejected(front, "limit", 1), "\(front.metricsText)")
                let line = front.logs.sessionsClosed.first { $0["reason"] == "limit" }
                #expect(line?["client"]?.hasPrefix("198.51.100.7:") == true, "\(line ?? [:])")

                let other = try await TestClient.connect(
                    port: port,
                    sending: header("198.51.100.8") + MQTTConnect(version: .v3_1_1, clientID: "pp-other").encode())
                #expect(try await other.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x00])
                await other.close()
                await held.close()
                #expect(await front.waitForActive(0))
            }
        }
    }

    @Test(
        "accept_proxy_protocol trusted [127.0.0.2/32]: a header from 127.0.0.1 is closed unread (proxy_protocol); from 127.0.0.2 it is served"
    )
    func trustedProxySenders() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.acceptProxyProtocol = true
                $0.trustedProxies = [IPNetwork("127.0.0.2/32")].compactMap { $0 }
            }
            try await withFront(config.withPatientDials) { front in
                let port = try front.port()
                let bytes =
                    Array("PROXY TCP4 203.0.113.5 127.0.0.1 5000 1883\r\n".utf8)
                    + MQTTConnect(version: .v3_1_1, clientID: "pp-trusted").encode()
                let answer = try await Self.closedUnread(port: port, from: "127.0.0.1", sending: bytes)
                #expect(answer.isEmpty, "\(TestClientError.hex(answer))")
                #expect(await Self.rejected(front, "proxy_protocol", 1), "\(front.metricsText)")

                let trusted = try await TestClient.connect(port: port, bindTo: "127.0.0.2", sending: bytes)
                #expect(try await trusted.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x00])
                await trusted.close()
                let line = await front.waitForSessionClosed(matching: ["client_id": "pp-trusted"])
                #expect(line?["client"] == "203.0.113.5:5000", "\(line ?? [:])")
                #expect(broker.clientsConnected().map(\.clientID) == ["pp-trusted"])
            }
        }
    }

    @Test(
        "max_pending_connect_bytes 2KiB: two unfinished 1 KiB CONNECTs hold 1,800 bytes; a third one's 400 bytes close it (limit); finished ones are served",
        arguments: [true, false])
    func pendingConnectBytes(onRelayThreads: Bool) async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.maxConnectSize = 1_024
                $0.limits.maxPendingConnectBytes = 2_048
                $0.connectTimeout = .seconds(30)
            }
            if !onRelayThreads { config.relayThreads = 0 }
            try await withFront(config.withPatientDials) { front in
                let port = try front.port()
                func connect(_ id: String) -> [UInt8] {
                    MQTTConnect(version: .v3_1_1, clientID: id + String(repeating: "x", count: 980 - id.count)).encode()
                }
                let a = connect("pend-a")
                let b = connect("pend-b")
                let first = try await TestClient.connect(port: port, sending: Array(a.prefix(900)))
                let second = try await TestClient.connect(port: port, sending: Array(b.prefix(900)))
                #expect(await front.waitForActive(2))
                // Both prefixes must be held before the third comes.
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.runner.proxy.pendingConnectBytes(listener: "mqtt") == 1_800
                    }, "\(String(describing: front.runner.proxy.pendingConnectBytes(listener: "mqtt")))")
                let answer = try await Self.closedUnread(
                    port: port, from: "127.0.0.1", sending: Array(connect("pend-c").prefix(400)))
                #expect(answer.isEmpty, "\(TestClientError.hex(answer))")
                #expect(await Self.rejected(front, "limit", 1), "\(front.metricsText)")

                try await first.send(Array(a.dropFirst(900)))
                #expect(try await first.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x00])
                try await second.send(Array(b.dropFirst(900)))
                #expect(try await second.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x00])
                // Nothing is held any more: a whole CONNECT of the largest size still gets in.
                let (late, lateCode) = try await MQTTTestClient.connect(port: port, clientID: "pend-late")
                #expect(lateCode == 0)
                #expect(front.runner.proxy.pendingConnectBytes(listener: "mqtt") == 0)
                for client in [first, second] {
                    try await client.send(MQTTPacket.disconnect)
                    await client.close()
                }
                await late.disconnect()
                #expect(await front.waitForActive(0))
            }
        }
    }

    /// `tls_handshakes.py HOST PORT CA N`: N TLS handshakes at once (threads); prints each one's
    /// completion time in seconds from the start, sorted, space-separated (`ERROR_<type>` for a failure).
    static let handshakesScript = #"""
        import socket, ssl, sys, threading, time

        host, port, ca, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        start = time.monotonic()
        results, sockets = [None] * n, []

        def run(i):
            try:
                s = ctx.wrap_socket(socket.create_connection((host, port), timeout=15), server_hostname=host)
                results[i] = "%.3f" % (time.monotonic() - start)
                sockets.append(s)
            except (ssl.SSLError, OSError) as e:
                results[i] = "ERROR_" + type(e).__name__

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(" ".join(sorted(results)), flush=True)
        for s in sockets: s.close()
        """#

    @Test("accept_rate 1 on a TLS listener paces handshakes: of three at once, the third completes after ≥ 1.5 s")
    func acceptRateBeforeHandshake() async throws {
        try await TLSTests.withTLSFront(
            clientCA: false,
            listener: {
                $0.limits.acceptRate = 1
                $0.connectTimeout = .seconds(10)
            }
        ) { front, _, certificates, _ in
            let script = try PythonTool.write(
                Self.handshakesScript, named: "tls_handshakes.py", in: certificates.directory)
            let result = try await CommandLineTool.run(
                PythonTool.interpreter, [script, "127.0.0.1", "\(try front.port())", certificates.caCertificate, "3"],
                timeout: .seconds(20))
            let times = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
            #expect(times.count == 3, "\(result.stdout) \(result.stderr)")
            // One token at the start, one more per second: the second handshake waits ~1 s, the third ~2 s.
            #expect((times.last ?? 0) >= 1.5, "handshakes done at \(times)")
            #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "limit"]) == 0)
        }
    }
}
