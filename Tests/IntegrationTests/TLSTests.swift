import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// TLS termination on a listener, seen by real TLS clients: mosquitto_pub/sub, `openssl s_client` and
/// a Python `ssl` client (the test target has no NIOSSL). Certificates are made per test by `openssl`.
@Suite("TLS listener")
struct TLSTests {
    static func tls(_ certificates: TestCertificates, clientCA: Bool) -> TLSConfig {
        TLSConfig(
            certificate: certificates.serverCertificate, privateKey: certificates.serverKey,
            clientCA: clientCA ? certificates.caCertificate : nil)
    }

    /// Certificates made for the test, one mosquitto, and a front (patient dials) whose listener
    /// terminates TLS with them; `listener` adds to the listener's settings. `body` gets the front,
    /// the broker, the certificates and the configuration; all of it is stopped and removed after.
    static func withTLSFront(
        clientCA: Bool, listener configure: (inout ListenerConfig) -> Void = { _ in },
        _ body: (RunningFront, MosquittoProcess, TestCertificates, FrontConfiguration) async throws -> Void
    ) async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.tls = Self.tls(certificates, clientCA: clientCA)
                configure(&$0)
            }.withPatientDials
            try await withFront(config) { front in try await body(front, broker, certificates, config) }
        }
    }

    /// `mosquitto_pub` over TLS to `port`, verifying the server against the test CA; extra flags appended.
    static func publish(
        port: Int, host: String = "127.0.0.1", certificates: TestCertificates, clientID: String,
        topic: String = "tls/test", message: String = "x", extra: [String] = []
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await CommandLineTool.run(
            "mosquitto_pub",
            ["--cafile", certificates.caCertificate, "-h", host, "-p", "\(port)", "-t", topic, "-m", message]
                + ["-i", clientID] + extra,
            timeout: .seconds(15))
    }

    @Test(
        "client_ids on a TLS listener (SwiftNIO's path): a denied id gets identifier rejected over TLS, counted as denied; an allowed one publishes"
    )
    func clientIDFilterOverTLS() async throws {
        try await Self.withTLSFront(
            clientCA: false,
            listener: {
                $0.clientIDs = ClientIDFilter(allow: ["sensor-*"], deny: ["sensor-bad*"])
            }
        ) { front, broker, certificates, config in
            let port = try front.port()
            let denied = try await Self.publish(port: port, certificates: certificates, clientID: "sensor-bad-1")
            #expect(denied.status != 0)
            #expect(denied.stderr.lowercased().contains("identifier rejected"), "\(denied.stderr)")
            let allowed = try await Self.publish(port: port, certificates: certificates, clientID: "sensor-ok-1")
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(
                await Poll.until(timeout: .seconds(2)) {
                    front.metric("brokerfront_connections_rejected_total", ["reason": "denied"]) == 1
                }, "\(front.metricsText)")
            let line = await front.waitForSessionClosed(matching: ["client_id": "sensor-bad-1"])
            #expect(line?["reason"] == "denied")
            #expect(!broker.clientsConnected().map(\.clientID).contains("sensor-bad-1"))
        }
    }

    @Test(
        "a reload naming a certificate that does not parse is refused and counted (result=error); the listener keeps its certificate"
    )
    func brokenCertificateReload() async throws {
        try await Self.withTLSFront(clientCA: false) { front, broker, certificates, config in
            let port = try front.port()
            // A rotation gone wrong: PEM-looking, but no certificate inside.
            let broken = try certificates.directory.write(
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
                to: "rotated.pem")
            var rotated = config
            rotated.listeners[0].tls?.certificate = broken
            guard case .failed(let reason) = await front.runner.reloader.reload(with: rotated) else {
                Issue.record("a reload with a broken certificate was applied")
                return
            }
            #expect(reason.contains("tls.certificate") && reason.contains(broken), "\(reason)")
            #expect(front.metric("brokerfront_reloads_total", ["result": "error"]) == 1)
            #expect(
                front.runner.proxy.configuration.listeners[0].tls?.certificate == certificates.serverCertificate)
            let published = try await Self.publish(
                port: port, certificates: certificates, clientID: "after-rotation")
            #expect(published.status == 0, "\(published.stderr)")
        }
    }

    @Test("TLS listener without client_ca: mosquitto_sub and mosquitto_pub (CA-verified, IP and DNS SAN) pub/sub")
    func pubSubOverTLS() async throws {
        try await Self.withTLSFront(clientCA: false) { front, broker, certificates, config in
            let port = try front.port()
            let sub = try ChildProcess.launch(
                "mosquitto_sub",
                [
                    "--cafile", certificates.caCertificate, "-h", "127.0.0.1", "-p", "\(port)", "-t", "tls/test",
                    "-C", "2", "-W", "15", "-i", "tls-sub",
                ], outputDirectory: certificates.directory.path, name: "sub")
            try await withStopping(sub, stop: { await $0.stop() }) { sub in
                #expect(
                    await broker.waitForLog(containing: "Received SUBSCRIBE from tls-sub", timeout: .seconds(10)),
                    "\(sub.stderrText())")
                let byIP = try await Self.publish(
                    port: port, certificates: certificates, clientID: "tls-pub-ip", message: "hello via 127.0.0.1")
                #expect(byIP.status == 0, "\(byIP.stderr)")
                let byName = try await Self.publish(
                    port: port, host: "localhost", certificates: certificates, clientID: "tls-pub-dns",
                    message: "hello via localhost")
                #expect(byName.status == 0, "\(byName.stderr)")
                let status = await sub.waitForExit(timeout: .seconds(10))
                #expect(status == 0, "\(sub.stderrText())")
                #expect(sub.stdoutText() == "hello via 127.0.0.1\nhello via localhost\n")
                // The front relayed them: the broker saw both publishers through it.
                let ids = Set(broker.clientsConnected().map(\.clientID))
                #expect(ids.isSuperset(of: ["tls-sub", "tls-pub-ip", "tls-pub-dns"]), "\(ids)")
                #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "tls"]) == 0)
            }
        }
    }

    @Test("a reload that turns TLS on for a listener on the same address rebinds it off the relay threads, and back")
    func reloadTogglesTLS() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withMosquitto { broker in
            let plain = TestConfig.mqttFront(ports: [broker.port])
            try await withFront(plain.withPatientDials) { front in
                let port = try front.port()
                var secured = plain.withPatientDials
                secured.listeners[0].tls = Self.tls(certificates, clientCA: false)
                guard case .applied(let summary) = await front.runner.reloader.reload(with: secured) else {
                    Issue.record("the reload to TLS was not applied")
                    return
                }
                #expect(summary.listenersRebound == ["mqtt"])
                let published = try await Self.publish(port: port, certificates: certificates, clientID: "tls-reload")
                #expect(published.status == 0, "\(published.stderr)")
                guard case .applied(let back) = await front.runner.reloader.reload(with: plain.withPatientDials) else {
                    Issue.record("the reload back to plain TCP was not applied")
                    return
                }
                #expect(back.listenersRebound == ["mqtt"])
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "plain-again")
                #expect(code == 0)
                #expect(front.runner.proxy.relayedSessions == 1)
                await client.disconnect()
            }
        }
    }

    @Test(
        "client_ca: no certificate and a foreign CA's certificate refused at the handshake; the right one works, logged with client_cn"
    )
    func clientCertificates() async throws {
        try await Self.withTLSFront(clientCA: true) { front, broker, certificates, config in
            let port = try front.port()
            let noCertificate = try await Self.publish(port: port, certificates: certificates, clientID: "no-cert")
            #expect(noCertificate.status != 0, "\(noCertificate.stdout) \(noCertificate.stderr)")
            let foreign = try await Self.publish(
                port: port, certificates: certificates, clientID: "rogue-cert",
                extra: ["--cert", certificates.rogueCertificate, "--key", certificates.rogueKey])
            #expect(foreign.status != 0, "\(foreign.stdout) \(foreign.stderr)")
            #expect(
                await Poll.until(timeout: .seconds(3)) {
                    front.metric("brokerfront_connections_rejected_total", ["listener": "mqtt", "reason": "tls"])
                        == 2
                }, "\(front.metricsText)")

            let good = try await Self.publish(
                port: port, certificates: certificates, clientID: "device-good",
                extra: ["--cert", certificates.clientCertificate, "--key", certificates.clientKey])
            #expect(good.status == 0, "\(good.stderr)")
            let line = await front.waitForSessionClosed(matching: ["client_id": "device-good"])
            #expect(line?["client_cn"] == "device-42", "\(String(describing: line))")
            #expect(line?["server"] == "b1")

            let refusedLines = front.logs.sessionsClosed.filter { $0["reason"] == "tls" }
            #expect(refusedLines.count == 2, "\(front.logs.sessionsClosed)")
            #expect(refusedLines.allSatisfy { $0["client_cn"] == nil && $0["server"] == "-" })
            let ids = Set(broker.clientsConnected().map(\.clientID))
            #expect(ids.contains("device-good"))
            #expect(!ids.contains("no-cert") && !ids.contains("rogue-cert"), "\(ids)")
        }
    }

    @Test("client-id balance: an empty client id over TLS is routed by the certificate CN, not the source IP")
    func emptyClientIDRoutedByCertificateCN() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let script = try PythonTool.write(EdgeScripts.tlsClient, named: "tls_client.py", in: certificates.directory)
        try await withMosquittos(3) { brokers in
            var tlsListener = TestConfig.mqttListener(name: "mqtt")
            tlsListener.tls = Self.tls(certificates, clientCA: true)
            let plainListener = TestConfig.mqttListener(name: "plain")
            let config = TestConfig.front(
                listeners: [tlsListener, plainListener],
                backends: [TestConfig.backend(ports: brokers.map(\.port), balance: .clientID)])
            try await withFront(config.withPatientDials) { front in
                let tlsPort = try front.port("mqtt")
                let plainPort = try front.port("plain")
                // Five connections from five source addresses, each with an empty id and the same certificate.
                let sources = (1...5).map { "127.0.8.\($0)" }
                for source in sources {
                    let result = try await CommandLineTool.run(
                        PythonTool.interpreter,
                        [
                            script, "127.0.0.1", "\(tlsPort)", certificates.caCertificate,
                            certificates.clientCertificate, certificates.clientKey, source, "",
                        ], timeout: .seconds(15))
                    #expect(result.stdout == "CONNACK 20020000\n", "\(source): \(result.stdout) \(result.stderr)")
                }
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.logs.sessionsClosed.filter { $0["listener"] == "mqtt" }.count == 5
                    })
                let tlsLines = front.logs.sessionsClosed.filter { $0["listener"] == "mqtt" }
                let tlsServers = Set(tlsLines.compactMap { $0["server"] })
                #expect(tlsServers.count == 1, "\(tlsLines)")
                #expect(tlsLines.allSatisfy { $0["client_cn"] == "device-42" && $0["client_id"] == "" }, "\(tlsLines)")
                #expect(Set(tlsLines.compactMap { $0["client"]?.split(separator: ":").first }).count == 5)

                // Control: the same empty ids from the same addresses without a certificate spread by source IP.
                for source in sources {
                    let (client, code) = try await MQTTTestClient.connect(port: plainPort, clientID: "", bindTo: source)
                    #expect(code == 0)
                    await client.disconnect()
                }
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.logs.sessionsClosed.filter { $0["listener"] == "plain" }.count == 5
                    })
                let plainServers = Set(
                    front.logs.sessionsClosed.filter { $0["listener"] == "plain" }.compactMap { $0["server"] })
                #expect(plainServers.count > 1, "source-IP fallback put all five on \(plainServers)")
            }
        }
    }

    @Test("TLS 1.1 is refused (openssl s_client -tls1_1 fails; the same client with -tls1_2 succeeds)")
    func tls11Refused() async throws {
        try await Self.withTLSFront(clientCA: false) { front, broker, certificates, config in
            let port = try front.port()
            // SECLEVEL=0: OpenSSL 3 refuses to offer TLS 1.1 at all at the default level, and the
            // test must show the server refusing, not the client.
            func sClient(_ version: String) async throws -> (status: Int32, stdout: String, stderr: String) {
                try await CommandLineTool.run(
                    "openssl",
                    [
                        "s_client", "-connect", "127.0.0.1:\(port)", version, "-cipher", "DEFAULT@SECLEVEL=0",
                        "-CAfile", certificates.caCertificate,
                    ], timeout: .seconds(10))
            }
            let old = try await sClient("-tls1_1")
            #expect(old.status != 0, "\(old.stdout)")
            #expect(
                old.stderr.contains("alert protocol version") || old.stderr.contains("unsupported protocol"),
                "\(old.stderr)")
            #expect(
                await Poll.until(timeout: .seconds(3)) {
                    front.metric("brokerfront_connections_rejected_total", ["reason": "tls"]) == 1
                }, "\(front.metricsText)")

            let current = try await sClient("-tls1_2")
            #expect(current.status == 0, "\(current.stderr)")
            #expect(current.stdout.contains("Protocol  : TLSv1.2"), "\(current.stdout)")
            #expect(current.stdout.contains("Verify return code: 0 (ok)"))
        }
    }

    @Test(
        "TLS listener: a plaintext CONNECT is refused as tls; a client that never starts the handshake is closed at connect_timeout"
    )
    func notTLSAndSilent() async throws {
        try await Self.withTLSFront(
            clientCA: false,
            listener: {
                $0.connectTimeout = .seconds(2)
            }
        ) { front, broker, certificates, config in
            let port = try front.port()
            let clock = ContinuousClock()
            let plain = try await TestClient.connect(
                port: port, sending: MQTTConnect(version: .v3_1_1, clientID: "plaintext").encode())
            let answer = try await plain.readUntilClose(timeout: .seconds(3))
            // Refused by the TLS stack, not closed by the 2 s connect_timeout (its reason would be
            // connect_timeout; told by the reason rather than by the clock, which a loaded machine skews).
            #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "connect_timeout"]) ?? 0 == 0)
            // Whatever the TLS stack answers (an alert record, 0x15), never a CONNACK (0x20).
            #expect(answer.first != 0x20, "\(TestClientError.hex(answer))")
            await plain.close()
            #expect(
                await Poll.until(timeout: .seconds(2)) {
                    front.metric("brokerfront_connections_rejected_total", ["reason": "tls"]) == 1
                }, "\(front.metricsText)")

            // Timed from before the connect: the front's deadline starts at its accept, which is later.
            let openedAt = clock.now
            let silent = try await TestClient.connect(port: port)
            let silentAnswer = try await silent.readUntilClose(timeout: .seconds(8))
            let held = clock.now - openedAt
            #expect(silentAnswer.isEmpty)
            #expect(held >= .milliseconds(1900) && held < .seconds(5), "closed after \(held)")
            await silent.close()
            #expect(
                await Poll.until(timeout: .seconds(2)) {
                    front.metric("brokerfront_connections_rejected_total", ["reason": "connect_timeout"]) == 1
                }, "\(front.metricsText)")
            #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "tls"]) == 1)
            #expect(broker.clientsConnected().isEmpty)
        }
    }

    @Test("a TLS client that half-closes without close_notify is let go as promptly as a plain TCP one")
    func raggedHalfClose() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let script = try PythonTool.write(EdgeScripts.tlsHalfClose, named: "half_close.py", in: certificates.directory)
        try await withMosquitto { broker in
            var tlsListener = TestConfig.mqttListener(name: "mqtt")
            tlsListener.tls = Self.tls(certificates, clientCA: true)
            let config = TestConfig.front(
                listeners: [tlsListener, TestConfig.mqttListener(name: "plain")],
                backends: [TestConfig.backend(ports: [broker.port])])
            try await withFront(config.withPatientDials) { front in
                // Plain TCP: the FIN is passed on to the broker, which closes, and the session ends at once.
                let plain = try await TestClient.connect(port: try front.port("plain"))
                try await plain.send(MQTTConnect(version: .v3_1_1, clientID: "half-plain").encode())
                #expect(try await plain.read(count: 4, timeout: .seconds(3)) == [0x20, 0x02, 0x00, 0x00])
                let clock = ContinuousClock()
                let start = clock.now
                try await plain.shutdownOutput()
                #expect(await plain.waitForClose(timeout: .seconds(8)))
                let plainAfter = clock.now - start
                #expect(plainAfter < .seconds(2), "plain TCP session ended \(plainAfter) after the FIN")
                await plain.close()

                // TLS: the same FIN without close_notify (what HAProxy forwards when its client leaves).
                let result = try await CommandLineTool.run(
                    PythonTool.interpreter,
                    [
                        script, "127.0.0.1", "\(try front.port("mqtt"))", certificates.caCertificate,
                        certificates.clientCertificate, certificates.clientKey, "half-tls",
                    ], timeout: .seconds(15))
                let closed = try #require(scriptRecords(result.stdout, tag: "CLOSED").first, "\(result)")
                let tlsAfter = Double(closed["after"] ?? "") ?? 99
                print("half-close: plain TCP ended after \(plainAfter), TLS after \(tlsAfter) s")
                let line = await front.waitForSessionClosed(matching: ["client_id": "half-tls"], timeout: .seconds(8))
                #expect(line?["reason"] == "client_closed")
                // The TLS context's shutdownTimeout (250 ms) bounds the wait for a close_notify that never comes.
                #expect(tlsAfter < 2, "the TLS session ended \(tlsAfter) s after the client's FIN")
            }
        }
    }
}
