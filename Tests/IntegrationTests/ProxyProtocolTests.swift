import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// The PROXY protocol with a real HAProxy 2.6 on either side of the front: HAProxy sending it to an
/// `accept_proxy_protocol` listener, and the front sending it (`send_proxy_protocol`) to an HAProxy
/// `accept-proxy` bind that logs the client address it learnt.
@Suite("PROXY protocol")
struct ProxyProtocolTests {
    static let haproxyHead = """
        global
            log stdout format raw local0
        defaults
            mode tcp
            log global
            timeout connect 2s
            timeout client 30s
            timeout server 30s

        """

    @Test(
        "HAProxy send-proxy-v2 and send-proxy in front: the session log shows the original client address",
        arguments: Shell.allCases)
    func acceptFromHAProxy(shell: Shell) async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) { $0.acceptProxyProtocol = true }
            try await withFront(config.withPatientDials.on(shell)) { front in
                let frontPort = try front.port()
                let v2Port = FreePort.next()
                let v1Port = FreePort.next()
                let cfg =
                    Self.haproxyHead + """
                        frontend fe_v2
                            bind 127.0.0.1:\(v2Port)
                            default_backend be_v2
                        backend be_v2
                            server front 127.0.0.1:\(frontPort) send-proxy-v2
                        frontend fe_v1
                            bind 127.0.0.1:\(v1Port)
                            default_backend be_v1
                        backend be_v1
                            server front 127.0.0.1:\(frontPort) send-proxy

                        """
                let haproxy = try await HAProxyProcess.start(config: cfg, waitingFor: v2Port)
                try await withStopping(haproxy, stop: { await $0.stop() }) { haproxy in
                    #expect(await PortProbe.waitUntilAccepting(port: v1Port, timeout: .seconds(3)))
                    for (port, clientID) in [(v2Port, "pp-v2"), (v1Port, "pp-v1")] {
                        let (client, code) = try await MQTTTestClient.connect(
                            port: port, clientID: clientID, bindTo: "127.0.5.5")
                        #expect(code == 0, "\(clientID): \(haproxy.output)")
                        let local = client.connection.localAddress
                        await client.disconnect()
                        let line = await front.waitForSessionClosed(matching: ["client_id": clientID])
                        #expect(line?["client"] == local, "\(clientID): \(String(describing: line))")
                        #expect(line?["client"]?.hasPrefix("127.0.5.5:") == true)
                        #expect(line?["reason"] == "client_closed")
                    }
                    #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "proxy_protocol"]) == 0)
                }
            }
        }
    }

    /// Runs `body` with an HAProxy whose `accept-proxy` bind (its port is passed on) relays to
    /// `broker` and logs each session with `logFormat`; stopped afterwards, also on failure.
    static func withAcceptProxyHAProxy(
        before broker: MosquittoProcess, logFormat: String, _ body: (HAProxyProcess, Int) async throws -> Void
    ) async throws {
        let haproxyPort = FreePort.next()
        let cfg =
            Self.haproxyHead + """
                frontend fe_pp
                    bind 127.0.0.1:\(haproxyPort) accept-proxy
                    log-format "\(logFormat)"
                    default_backend be_broker
                backend be_broker
                    server broker 127.0.0.1:\(broker.port)

                """
        let haproxy = try await HAProxyProcess.start(config: cfg, waitingFor: haproxyPort)
        try await withStopping(haproxy, stop: { await $0.stop() }) { try await body($0, haproxyPort) }
    }

    @Test(
        "send_proxy_protocol v2 and v1 to an HAProxy accept-proxy bind: HAProxy logs the original client",
        arguments: Shell.allCases)
    func sendToHAProxy(shell: Shell) async throws {
        try await withMosquitto { broker in
            try await Self.withAcceptProxyHAProxy(before: broker, logFormat: "PPLOG %ci:%cp") { haproxy, haproxyPort in
                let listeners = [
                    TestConfig.mqttListener(name: "mqtt-v2", backend: "via-v2"),
                    TestConfig.mqttListener(name: "mqtt-v1", backend: "via-v1"),
                ]
                let backends = [
                    TestConfig.backend(name: "via-v2", ports: [haproxyPort]) { $0.sendProxyProtocol = .v2 },
                    TestConfig.backend(name: "via-v1", ports: [haproxyPort]) { $0.sendProxyProtocol = .v1 },
                ]
                try await withFront(
                    TestConfig.front(listeners: listeners, backends: backends).withPatientDials.on(shell)
                ) {
                    front in
                    for (listener, source) in [("mqtt-v2", "127.0.5.6"), ("mqtt-v1", "127.0.5.7")] {
                        let (client, code) = try await MQTTTestClient.connect(
                            port: try front.port(listener), clientID: "sent-\(listener)", bindTo: source)
                        #expect(code == 0, "\(listener): \(haproxy.output)")
                        let local = client.connection.localAddress
                        await client.disconnect()
                        // HAProxy logs a tcp session when it ends.
                        let logged = await Poll.until(timeout: .seconds(5)) {
                            haproxy.output.contains("PPLOG \(local)\n")
                        }
                        #expect(logged, "\(listener) from \(local); haproxy said:\n\(haproxy.output)")
                    }
                    #expect(!haproxy.output.contains("PPLOG 127.0.0.1:"), "\(haproxy.output)")
                    #expect(broker.clientsConnected().map(\.clientID).sorted() == ["sent-mqtt-v1", "sent-mqtt-v2"])
                }
            }
        }
    }

    @Test(
        "a listener bound to 0.0.0.0 sends the address the client connected to as the PROXY destination",
        arguments: Shell.allCases)
    func destinationOfWildcardBind(shell: Shell) async throws {
        try await withMosquitto { broker in
            let format = "PPLOG %ci:%cp DST %[dst]:%[dst_port]"
            try await Self.withAcceptProxyHAProxy(before: broker, logFormat: format) { haproxy, haproxyPort in
                let port = FreePort.nextOnAllAddresses()
                let listener = TestConfig.mqttListener { $0.bind = Endpoint(host: "0.0.0.0", port: port) }
                let backend = TestConfig.backend(ports: [haproxyPort]) { $0.sendProxyProtocol = .v1 }
                try await withFront(
                    TestConfig.front(listeners: [listener], backends: [backend]).withPatientDials.on(shell)
                ) {
                    front in
                    // Reached through 127.0.0.3, one of the addresses 0.0.0.0 covers.
                    let connection = try await TestClient.connect(host: "127.0.0.3", port: port)
                    try await connection.send(MQTTConnect(version: .v3_1_1, clientID: "pp-wild").encode())
                    #expect(try await connection.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x00])
                    let local = connection.localAddress
                    try await connection.send(MQTTPacket.disconnect)
                    await connection.close()
                    let logged = await Poll.until(timeout: .seconds(5)) {
                        haproxy.output.contains("PPLOG \(local) DST 127.0.0.3:\(port)\n")
                    }
                    #expect(logged, "from \(local); haproxy said:\n\(haproxy.output)")
                }
            }
        }
    }

    @Test(
        "accept_proxy_protocol: a bare CONNECT is closed at once, a silent client after connect_timeout; both proxy_protocol",
        arguments: Shell.allCases)
    func missingHeader(shell: Shell) async throws {
        try await withMosquitto { broker in
            // Two listeners: a long deadline on the first shows the bare CONNECT is refused on sight
            // (not at the deadline), a short one on the second shows the deadline itself.
            var refusing = TestConfig.mqttListener(name: "mqtt")
            refusing.acceptProxyProtocol = true
            refusing.connectTimeout = .seconds(10)
            var waiting = TestConfig.mqttListener(name: "waiting")
            waiting.acceptProxyProtocol = true
            waiting.connectTimeout = .seconds(2)
            let config = TestConfig.front(
                listeners: [refusing, waiting], backends: [TestConfig.backend(ports: [broker.port])])
            try await withFront(config.withPatientDials.on(shell)) { front in
                let port = try front.port("mqtt")
                let clock = ContinuousClock()

                let sentAt = clock.now
                let bare = try await TestClient.connect(
                    port: port, sending: MQTTConnect(version: .v3_1_1, clientID: "no-header").encode())
                let answer = try await bare.readUntilClose(timeout: .seconds(8))
                let bareElapsed = clock.now - sentAt
                #expect(answer.isEmpty, "\(TestClientError.hex(answer))")
                #expect(bareElapsed < .seconds(5), "closed after \(bareElapsed), the deadline is 10 s")
                await bare.close()

                // Timed from before the connect: the front's deadline starts at its accept, which is later.
                let openedAt = clock.now
                let silent = try await TestClient.connect(port: try front.port("waiting"))
                let silentAnswer = try await silent.readUntilClose(timeout: .seconds(8))
                let silentElapsed = clock.now - openedAt
                #expect(silentAnswer.isEmpty)
                #expect(
                    silentElapsed >= .milliseconds(1900) && silentElapsed < .seconds(5),
                    "closed after \(silentElapsed)")
                await silent.close()

                #expect(
                    await Poll.until(timeout: .seconds(2)) {
                        front.metric(
                            "brokerfront_connections_rejected_total", ["listener": "mqtt", "reason": "proxy_protocol"])
                            == 1
                            && front.metric(
                                "brokerfront_connections_rejected_total",
                                ["listener": "waiting", "reason": "proxy_protocol"]) == 1
                    }, "\(front.metricsText)")
                let reasons = front.logs.sessionsClosed.map { $0["reason"] ?? "?" }
                #expect(reasons == ["proxy_protocol", "proxy_protocol"], "\(reasons)")
                #expect(broker.clientsConnected().isEmpty)
                #expect(await front.waitForActive(0))
                #expect(await front.waitForActive(0, listener: "waiting"))
            }
        }
    }

    /// The TLS listener is served by SwiftNIO on either shell; the plain per_source_ip one follows the shell.
    @Test(
        "HAProxy send-proxy-v2 in front of TLS and per_source_ip listeners: CN and limits apply to the real client",
        arguments: Shell.allCases)
    func proxiedTLSAndLimits(shell: Shell) async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let script = try PythonTool.write(EdgeScripts.tlsClient, named: "tls_client.py", in: certificates.directory)
        try await withMosquitto { broker in
            var tlsListener = TestConfig.mqttListener(name: "pp-tls")
            tlsListener.acceptProxyProtocol = true
            tlsListener.tls = TLSTests.tls(certificates, clientCA: true)
            var limitedListener = TestConfig.mqttListener(name: "pp-limited")
            limitedListener.acceptProxyProtocol = true
            limitedListener.limits.perSourceIP = 1
            let config = TestConfig.front(
                listeners: [tlsListener, limitedListener], backends: [TestConfig.backend(ports: [broker.port])])
            try await withFront(config.withPatientDials.on(shell)) { front in
                let tlsPort = FreePort.next()
                let limitedPort = FreePort.next()
                let cfg =
                    Self.haproxyHead + """
                        frontend fe_tls
                            bind 127.0.0.1:\(tlsPort)
                            default_backend be_tls
                        backend be_tls
                            server front 127.0.0.1:\(try front.port("pp-tls")) send-proxy-v2
                        frontend fe_limited
                            bind 127.0.0.1:\(limitedPort)
                            default_backend be_limited
                        backend be_limited
                            server front 127.0.0.1:\(try front.port("pp-limited")) send-proxy-v2

                        """
                let haproxy = try await HAProxyProcess.start(config: cfg, waitingFor: tlsPort)
                try await withStopping(haproxy, stop: { await $0.stop() }) { haproxy in
                    // TLS passes through HAProxy untouched; the front reads the PROXY header, then the handshake.
                    let result = try await CommandLineTool.run(
                        PythonTool.interpreter,
                        [
                            script, "127.0.0.1", "\(tlsPort)", certificates.caCertificate,
                            certificates.clientCertificate, certificates.clientKey, "127.0.5.8", "pp-tls-1",
                        ], timeout: .seconds(15))
                    #expect(
                        result.stdout == "CONNACK 20020000\n", "\(result.stdout) \(result.stderr) \(haproxy.output)")
                    // HAProxy passes the client's FIN on as a half-close without close_notify: the front
                    // then holds the TLS session ~5 s (see TLSTests.raggedHalfClose), hence the long wait.
                    let line = await front.waitForSessionClosed(
                        matching: ["client_id": "pp-tls-1"], timeout: .seconds(10))
                    #expect(line?["client"]?.hasPrefix("127.0.5.8:") == true, "\(String(describing: line))")
                    #expect(line?["client_cn"] == "device-42")

                    // per_source_ip 1 counts the address from the header, not HAProxy's 127.0.0.1.
                    let (held, heldCode) = try await MQTTTestClient.connect(
                        port: limitedPort, clientID: "pp-limit-a", bindTo: "127.0.5.9")
                    #expect(heldCode == 0)
                    // Counted right after the header: a close with no bytes, the CONNECT unread.
                    let second = try await LimitTests.refusal(
                        port: limitedPort, clientID: "pp-limit-b", version: .v3_1_1, bindTo: "127.0.5.9")
                    #expect(second.isEmpty, "\(TestClientError.hex(second))")
                    let (other, otherCode) = try await MQTTTestClient.connect(
                        port: limitedPort, clientID: "pp-limit-c", bindTo: "127.0.5.10")
                    #expect(otherCode == 0)
                    #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "limit"]) == 1)
                    let refused = await front.waitForSessionClosed(matching: ["reason": "limit"])
                    #expect(refused?["client_id"] == "-")
                    #expect(refused?["client"]?.hasPrefix("127.0.5.9:") == true)
                    await held.disconnect()
                    await other.disconnect()
                }
            }
        }
    }

    // One shell only: health checks are dialed by SwiftNIO (ProbeConnection) whatever `relay_threads` says.
    @Test(
        "send_proxy_protocol v2: the mqtt health check sends the header too (an accept-proxy HAProxy lets only it pass)"
    )
    func healthCheckSendsHeader() async throws {
        try await withMosquitto { broker in
            let haproxyPort = FreePort.next()
            let cfg =
                Self.haproxyHead + """
                    frontend fe_pp
                        bind 127.0.0.1:\(haproxyPort) accept-proxy
                        default_backend be_broker
                    backend be_broker
                        server broker 127.0.0.1:\(broker.port)

                    """
            let haproxy = try await HAProxyProcess.start(config: cfg, waitingFor: haproxyPort)
            try await withStopping(haproxy, stop: { await $0.stop() }) { _ in
                // fall 3 and a 3 s timeout: one check slowed by a loaded machine is not a server down.
                let check = HealthCheckConfig(
                    type: .mqtt, interval: .milliseconds(200), timeout: .seconds(3), rise: 1, fall: 3)
                let backends = [
                    TestConfig.backend(name: "with-header", ports: [haproxyPort]) {
                        $0.sendProxyProtocol = .v2
                        $0.healthCheck = check
                    },
                    TestConfig.backend(name: "without-header", ports: [haproxyPort]) { $0.healthCheck = check },
                ]
                let listeners = [
                    TestConfig.mqttListener(name: "a", backend: "with-header"),
                    TestConfig.mqttListener(name: "b", backend: "without-header"),
                ]
                try await withFront(TestConfig.front(listeners: listeners, backends: backends).withPatientDials) {
                    front in
                    func up(_ backend: String) -> Double? {
                        front.metric("brokerfront_server_up", ["backend": backend, "server": "b1"])
                    }
                    func checks(_ backend: String, _ result: String) -> Double {
                        front.metric("brokerfront_health_checks_total", ["backend": backend, "result": result]) ?? 0
                    }
                    #expect(await Poll.until(timeout: .seconds(10)) { up("with-header") == 1 }, "\(front.metricsText)")
                    // Several checks of each: the one with the header stays up, the one without never comes up.
                    #expect(
                        await Poll.until(timeout: .seconds(10)) {
                            checks("with-header", "ok") >= 4 && checks("without-header", "fail") >= 4
                        }, "\(front.metricsText)")
                    #expect(checks("with-header", "fail") == 0, "\(front.metricsText)")
                    #expect(checks("without-header", "ok") == 0, "\(front.metricsText)")
                    #expect(up("with-header") == 1)
                    #expect(up("without-header") == 0)
                    let (client, code) = try await MQTTTestClient.connect(
                        port: try front.port("a"), clientID: "checked")
                    #expect(code == 0)
                    await client.disconnect()
                }
            }
        }
    }
}
