import FrontConfig
import FrontProxy
import FrontTesting
import MQTTWire
import Testing

/// With relay threads, a session dials its server from a plain socket and moves to a relay thread as
/// soon as its CONNECT is routed. What a client sees must be what it sees on SwiftNIO channels
/// (`relay_threads: 0`): the CONNECT replayed to the next server when one hangs up before answering,
/// a refusal when none is left. (The rest of the suite runs with relay threads, the default; the
/// accept-queue test in FaultTests covers the connect deadline.)
@Suite("Relay connect")
struct RelayConnectTests {
    @Test("a session is on a relay thread as soon as its CONNACK is out; with relay_threads 0, never")
    func movesAtOnce() async throws {
        try await withMosquitto { broker in
            for onRelayThreads in [true, false] {
                var config = TestConfig.mqttFront(ports: [broker.port])
                if !onRelayThreads { config.relayThreads = 0 }
                try await withFront(config) { front in
                    let (client, code) = try await MQTTTestClient.connect(
                        port: try front.port(), clientID: "rc-\(onRelayThreads)")
                    #expect(code == 0)
                    // Counted when the relay thread was given the session, which was before the CONNECT left.
                    #expect(front.runner.proxy.relayedSessions == (onRelayThreads ? 1 : 0))
                    try await client.subscribe("rc/t")
                    try await client.publish(topic: "rc/t", payload: [7])
                    #expect(try await client.nextPublish(timeout: .seconds(3)).payload == [7])
                    #expect(front.runner.proxy.relayedSessions == (onRelayThreads ? 1 : 0))
                    // No `source_ips`: `source` is the address the kernel gave the server socket.
                    let listed = await front.runner.proxy.sessions(
                        matching: SessionFilter(clientID: "rc-\(onRelayThreads)"), offset: 0, limit: 10)
                    #expect(listed.page.map(\.source) == ["127.0.0.1"])
                    await client.disconnect()
                    let line = await front.waitForSessionClosed(matching: ["client_id": "rc-\(onRelayThreads)"])
                    #expect(line?["reason"] == "client_closed")
                    #expect(line?["server"] == "b1")
                    #expect(line?["source"] == "127.0.0.1")
                    #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
                }
            }
        }
    }

    @Test(
        "a server that hangs up before answering: the CONNECT and the PINGREQ behind it reach the next server",
        arguments: [HangUpServer.Mode.finAfterRead, .resetAtAccept], [true, false])
    func replayedToNextServer(mode: HangUpServer.Mode, onRelayThreads: Bool) async throws {
        let dead = try await HangUpServer.start(mode)
        try await withStopping(dead, stop: { await $0.stop() }) { dead in
            try await withMosquitto { broker in
                var config = TestConfig.mqttFront(
                    ports: [dead.port, broker.port], balance: .first, backend: { $0.retries = 2 })
                if !onRelayThreads { config.relayThreads = 0 }
                try await withFront(config) { front in
                    let client = try await TestClient.connect(port: try front.port())
                    let connect = MQTTConnect(version: .v3_1_1, keepAlive: 30, clientID: "rc-replay").encode()
                    try await client.send(connect + MQTTPacket.pingReq)
                    let answer: [UInt8]
                    do {
                        answer = try await client.read(count: 6, timeout: .seconds(5))
                    } catch {
                        // What the front said of the session, in the CI log.
                        Issue.record(
                            "\(error)\nsessions: \(front.logs.sessionsClosed)\n\(front.logs.controlLines)")
                        throw error
                    }
                    #expect(
                        answer == [0x20, 0x02, 0x00, 0x00, 0xD0, 0x00], "\(mode), on relay threads: \(onRelayThreads)")
                    #expect(dead.acceptedCount >= 1)
                    try await client.send(MQTTPacket.disconnect)
                    await client.close()
                    let line = await front.waitForSessionClosed(matching: ["client_id": "rc-replay"])
                    #expect(line?["server"] == "b2")
                    #expect(line?["reason"] == "client_closed")
                    #expect(await front.waitForActive(0))
                    #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
                }
            }
        }
    }

    @Test(
        "the only server hangs up before answering: the client gets Server unavailable, then a close",
        arguments: [true, false])
    func refusedWhenNoneLeft(onRelayThreads: Bool) async throws {
        let dead = try await HangUpServer.start(.finAfterRead)
        try await withStopping(dead, stop: { await $0.stop() }) { dead in
            var config = TestConfig.mqttFront(ports: [dead.port], backend: { $0.retries = 2 })
            if !onRelayThreads { config.relayThreads = 0 }
            try await withFront(config) { front in
                let client = try await TestClient.connect(port: try front.port())
                try await client.send(MQTTConnect(version: .v3_1_1, keepAlive: 30, clientID: "rc-alone").encode())
                #expect(try await client.read(count: 4, timeout: .seconds(5)) == [0x20, 0x02, 0x00, 0x03])
                #expect(await client.waitForClose(timeout: .seconds(3)))
                let line = await front.waitForSessionClosed(matching: ["client_id": "rc-alone"])
                #expect(line?["reason"] == "no_server")
                #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "no_server"]) == 1)
                // A session tries each server once, however many retries are left.
                #expect(dead.acceptedCount == 1)
                #expect(dead.receivedBytes.starts(with: [0x10]))
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
            }
        }
    }

    @Test(
        "client bytes past the replay limit before the server answers: its close is passed on, not replayed to the next server",
        arguments: [true, false])
    func replayLimitGivesUpReplay(onRelayThreads: Bool) async throws {
        let connect = MQTTConnect(version: .v3_1_1, keepAlive: 30, clientID: "rc-limit").encode()
        // max_connect_size 1024: the replay limit is 2048 bytes; the PUBLISH alone is past it.
        let topic: [UInt8] = [0, 1, 0x61]
        let payload = [UInt8](repeating: 0x7A, count: 3_000)
        let remaining = topic.count + payload.count
        let publish: [UInt8] = [0x30, UInt8(remaining & 0x7F | 0x80), UInt8(remaining >> 7)] + topic + payload
        let dead = try await HangUpServer.start(.finAfterReading(connect.count + publish.count))
        let next = try await HangUpServer.start(.finAfterRead)
        try await withStopping(dead, stop: { await $0.stop() }) { dead in
            try await withStopping(next, stop: { await $0.stop() }) { next in
                var config = TestConfig.mqttFront(
                    ports: [dead.port, next.port], balance: .first, listener: { $0.maxConnectSize = 1_024 },
                    backend: { $0.retries = 2 })
                if !onRelayThreads { config.relayThreads = 0 }
                try await withFront(config) { front in
                    let client = try await TestClient.connect(port: try front.port())
                    try await client.send(connect)
                    #expect(await Poll.until(timeout: .seconds(5)) { dead.receivedBytes.count >= connect.count })
                    try await client.send(publish)
                    #expect(await client.waitForClose(timeout: .seconds(5)), "on relay threads: \(onRelayThreads)")
                    #expect(dead.receivedBytes == connect + publish)
                    #expect(next.acceptedCount == 0, "replayed to the next server")
                    await client.close()
                    #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
                }
            }
        }
    }

    @Test("an IPv6 client (listener on [::1]) is accepted and relayed on a relay thread too")
    func ipv6ClientMoves() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(
                ports: [broker.port], listener: { $0.bind = Endpoint(host: "::1", port: FreePort.next()) })
            try await withFront(config) { front in
                let (client, code) = try await MQTTTestClient.connect(
                    host: "::1", port: try front.port(), clientID: "rc-v6")
                #expect(code == 0)
                #expect(front.runner.proxy.relayedSessions == 1)
                try await client.subscribe("rc/v6")
                try await client.publish(topic: "rc/v6", payload: [6])
                #expect(try await client.nextPublish(timeout: .seconds(3)).payload == [6])
                await client.disconnect()
                let line = await front.waitForSessionClosed(matching: ["client_id": "rc-v6"])
                #expect(line?["client"]?.hasPrefix("[::1]:") == true, "\(String(describing: line))")
                #expect(line?["reason"] == "client_closed")
            }
        }
    }
}
