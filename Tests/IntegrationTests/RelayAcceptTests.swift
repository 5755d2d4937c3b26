import FrontConfig
import FrontProxy
import FrontTesting
import MQTTWire
import Testing

/// With relay threads (the default), a plain-TCP listener accepts on them; they read the PROXY
/// header and the CONNECT and hand the connection to an event loop; no SwiftNIO channel is built for
/// the session. The rest of the suite runs this way too: refusals, caps, deadlines, the
/// descriptor-limit faults. These tests cover what only this path does.
@Suite("Relay accept")
struct RelayAcceptTests {
    @Test("the listener accepts on a relay thread and a session relays there; with relay_threads 0, SwiftNIO accepts")
    func acceptsOnRelayThread() async throws {
        try await withMosquitto { broker in
            for onRelayThreads in [true, false] {
                var config = TestConfig.mqttFront(ports: [broker.port])
                if !onRelayThreads { config.relayThreads = 0 }
                try await withFront(config) { front in
                    let listening = front.logs.all.first { $0.message == "listening" }
                    #expect(
                        listening?.metadata["accept"] == (onRelayThreads ? "relay threads" : nil), "\(onRelayThreads)")
                    let (client, code) = try await MQTTTestClient.connect(
                        port: try front.port(), clientID: "ra-\(onRelayThreads)")
                    #expect(code == 0)
                    #expect(front.runner.proxy.relayedSessions == (onRelayThreads ? 1 : 0))
                    try await client.subscribe("ra/t")
                    try await client.publish(topic: "ra/t", payload: [1, 2])
                    #expect(try await client.nextPublish(timeout: .seconds(3)).payload == [1, 2])
                    let local = client.connection.localAddress
                    await client.disconnect()
                    let line = await front.waitForSessionClosed(matching: ["client_id": "ra-\(onRelayThreads)"])
                    #expect(line?["reason"] == "client_closed")
                    #expect(line?["client"] == local, "\(line ?? [:])")
                    #expect(await front.waitForActive(0))
                    #expect(front.metric("brokerfront_connections_total", ["listener": "mqtt"]) == 1)
                    #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
                }
            }
        }
    }

    @Test("a CONNECT sent one byte at a time is gathered by the relay thread, then routed")
    func connectByteByByte() async throws {
        try await withMosquitto { broker in
            // A long connect_timeout: on a loaded host the byte-by-byte sends may take seconds.
            let config = TestConfig.mqttFront(ports: [broker.port]) { $0.connectTimeout = .seconds(30) }
            try await withFront(config) { front in
                let client = try await TestClient.connect(port: try front.port())
                let connect = MQTTConnect(version: .v5, keepAlive: 30, clientID: "ra-slow").encode()
                for byte in connect {
                    try await client.send([byte])
                    try await Task.sleep(for: .milliseconds(5))
                }
                let connack = try await client.read(count: 3, timeout: .seconds(5))
                #expect(connack.first == 0x20 && connack.last == 0x00, "\(connack)")
                #expect(front.metric("brokerfront_connections_active", ["listener": "mqtt"]) == 1)
                await client.close()
                let line = await front.waitForSessionClosed(matching: ["client_id": "ra-slow"])
                #expect(line?["server"] == "b1")
                #expect(await front.waitForActive(0))
            }
        }
    }

    @Test("a half-sent CONNECT is counted active at once, and a shutdown closes it with reason shutdown")
    func shutdownWhileSniffing() async throws {
        let config = TestConfig.mqttFront(ports: [FreePort.refusing()]) { $0.connectTimeout = .seconds(30) }
        let front = try await RunningFront.start(config)
        let client = try await TestClient.connect(port: try front.port())
        let connect = MQTTConnect(version: .v3_1_1, clientID: "ra-half").encode()
        try await client.send(Array(connect.prefix(5)))
        #expect(await front.waitForActive(1))
        #expect(await front.stop())
        #expect(await client.waitForClose(timeout: .seconds(3)))
        await client.close()
        let line = front.logs.sessionsClosed.first
        #expect(line?["reason"] == "shutdown", "\(front.logs.sessionsClosed)")
        #expect(front.runner.proxy.activeSessions == 0)
    }

    @Test("a connection still sending its CONNECT is listed by GET /sessions without a client id; filters skip it")
    func sniffingListed() async throws {
        let config = TestConfig.mqttFront(ports: [FreePort.refusing()]) { $0.connectTimeout = .seconds(30) }
        try await withFront(config) { front in
            let proxy = front.runner.proxy
            let client = try await TestClient.connect(port: try front.port())
            let connect = MQTTConnect(version: .v3_1_1, clientID: "ra-listed").encode()
            try await client.send(Array(connect.prefix(5)))
            #expect(await front.waitForActive(1))
            // The relay thread reads the five bytes when it next polls.
            #expect(
                await Poll.until(timeout: .seconds(3)) {
                    await proxy.sessions(matching: SessionFilter(), offset: 0, limit: 10).page.first?.bytes_in == 5
                })
            let listing = await proxy.sessions(matching: SessionFilter(), offset: 0, limit: 10)
            #expect(listing.total == 1)
            let entry = listing.page.first
            #expect(entry?.client == client.localAddress, "\(listing)")
            #expect(entry?.listener == "mqtt")
            #expect(entry?.client_id == nil && entry?.backend == nil && entry?.server == nil && entry?.source == nil)
            #expect(entry?.bytes_out == 0)
            #expect(
                await proxy.sessions(matching: SessionFilter(clientID: "ra-listed"), offset: 0, limit: 10).total == 0)
            #expect(await proxy.sessions(matching: SessionFilter(server: "b1"), offset: 0, limit: 10).total == 0)
            #expect(await proxy.sessions(matching: SessionFilter(), offset: 1, limit: 10).page.isEmpty)
            await client.close()
            #expect(await front.waitForActive(0))
            #expect(await proxy.sessions(matching: SessionFilter(), offset: 0, limit: 10).total == 0)
        }
    }

    @Test("a server addressed by name is resolved off the event loop and dialed from a plain socket")
    func namedServer() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port])
            config.backends[0].servers[0].address = Endpoint(host: "localhost", port: broker.port)
            try await withFront(config) { front in
                let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "ra-named")
                #expect(code == 0)
                try await client.subscribe("ra/n")
                try await client.publish(topic: "ra/n", payload: [9])
                #expect(try await client.nextPublish(timeout: .seconds(3)).payload == [9])
                #expect(front.runner.proxy.relayedSessions == 1)
                await client.disconnect()
                let line = await front.waitForSessionClosed(matching: ["client_id": "ra-named"])
                #expect(line?["server"] == "b1")
                #expect(line?["reason"] == "client_closed")
            }
        }
    }

    @Test(
        "a server name that does not resolve: the client gets Server unavailable; one such dial does not mark it down")
    func unresolvedName() async throws {
        var config = TestConfig.mqttFront(ports: [FreePort.next()])
        config.backends[0].servers[0].address = Endpoint(host: "no-such-broker.invalid", port: 1883)
        try await withFront(config) { front in
            let connect = MQTTConnect(version: .v3_1_1, clientID: "ra-unresolved").encode()
            let client = try await TestClient.connect(port: try front.port(), sending: connect)
            #expect(try await client.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x03])
            await client.close()
            let line = await front.waitForSessionClosed(matching: ["client_id": "ra-unresolved"])
            #expect(line?["reason"] == "no_server")
            // Like a timeout, and unlike a refusal, a name that does not resolve proves nothing at once.
            #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b1"]) == 1)
        }
    }

    /// A PROXY v1 header naming `source` as the client of `destination` (HAProxy's `send-proxy`).
    static func proxyHeader(_ source: String, _ sourcePort: Int, to destination: String, _ destinationPort: Int)
        -> [UInt8]
    {
        Array("PROXY TCP4 \(source) \(destination) \(sourcePort) \(destinationPort)\r\n".utf8)
    }

    @Test(
        "accept_proxy_protocol: the relay thread reads the PROXY header; the client it names is listed, counted by per_source_ip and served"
    )
    func proxyHeaderOnRelayThread() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.acceptProxyProtocol = true
                $0.limits.perSourceIP = 1
                $0.connectTimeout = .seconds(30)
            }
            try await withFront(config.withPatientDials) { front in
                let listening = front.logs.all.first { $0.message == "listening" }
                #expect(listening?.metadata["accept"] == "relay threads")
                let proxy = front.runner.proxy
                let connect = MQTTConnect(version: .v3_1_1, clientID: "ra-proxied").encode()
                let header = Self.proxyHeader("10.1.2.3", 4567, to: "10.9.9.9", 1883)
                let client = try await TestClient.connect(
                    port: try front.port(), sending: header + Array(connect.prefix(5)))
                // Listed by the relay thread that holds it, under the header's client, its header not counted.
                #expect(
                    await Poll.until(timeout: .seconds(3)) {
                        await proxy.sessions(matching: SessionFilter(), offset: 0, limit: 10).page.first?.bytes_in == 5
                    })
                let entry = await proxy.sessions(matching: SessionFilter(), offset: 0, limit: 10).page.first
                #expect(entry?.client == "10.1.2.3:4567", "\(String(describing: entry))")

                // per_source_ip 1 counts the header's client, not the sender's 127.0.0.1.
                let again = Self.proxyHeader("10.1.2.3", 4568, to: "10.9.9.9", 1883)
                let refused = try await TestClient.connect(port: try front.port(), sending: again + connect)
                #expect(try await refused.readUntilClose(timeout: .seconds(5)).isEmpty)
                await refused.close()
                #expect(
                    await Poll.until(timeout: .seconds(3)) {
                        front.metric("brokerfront_connections_rejected_total", ["reason": "limit"]) == 1
                    })

                try await client.send(Array(connect.dropFirst(5)))
                #expect(try await client.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x00])
                #expect(proxy.relayedSessions == 1)
                try await client.send(MQTTPacket.disconnect)
                await client.close()
                let line = await front.waitForSessionClosed(matching: ["client_id": "ra-proxied"])
                #expect(line?["client"] == "10.1.2.3:4567", "\(String(describing: line))")
                #expect(line?["reason"] == "client_closed")
                #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "proxy_protocol"]) == 0)
            }
        }
    }

    @Test("accept_proxy_protocol with send_proxy_protocol: the broker is told the client and destination of the header")
    func proxyHeaderPassedOn() async throws {
        let server = try await HangUpServer.start(.finAfterRead)
        try await withStopping(server, stop: { await $0.stop() }) { server in
            var config = TestConfig.mqttFront(ports: [server.port]) { $0.acceptProxyProtocol = true }
            config.backends[0].sendProxyProtocol = .v1
            try await withFront(config) { front in
                let header = Self.proxyHeader("10.1.2.3", 4567, to: "10.9.9.9", 1883)
                let connect = MQTTConnect(version: .v3_1_1, clientID: "ra-passed").encode()
                let client = try await TestClient.connect(port: try front.port(), sending: header + connect)
                // The only server closes without answering: Server unavailable.
                #expect(try await client.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x03])
                await client.close()
                #expect(
                    server.receivedBytes.starts(with: header + [0x10]), "\(TestClientError.hex(server.receivedBytes))")
            }
        }
    }

    @Test("accept_proxy_protocol: an invalid PROXY header on a relay thread is a close with no bytes (proxy_protocol)")
    func invalidProxyHeaderOnRelayThread() async throws {
        let config = TestConfig.mqttFront(ports: [FreePort.refusing()]) { $0.acceptProxyProtocol = true }
        try await withFront(config) { front in
            let listening = front.logs.all.first { $0.message == "listening" }
            #expect(listening?.metadata["accept"] == "relay threads")
            let client = try await TestClient.connect(
                port: try front.port(), sending: Array("PROXY TCP4 not-an-address\r\n".utf8))
            #expect(try await client.readUntilClose(timeout: .seconds(5)).isEmpty)
            await client.close()
            #expect(
                await Poll.until(timeout: .seconds(3)) {
                    front.metric("brokerfront_connections_rejected_total", ["reason": "proxy_protocol"]) == 1
                }, "\(front.metricsText)")
            #expect(front.logs.sessionsClosed.map { $0["reason"] } == ["proxy_protocol"])
            // The header's bytes are not the client's, as on the channel path.
            #expect(front.logs.sessionsClosed.first?["bytes_in"] == "0")
            #expect(await front.waitForActive(0))
        }
    }
}
