import FrontConfig
import FrontControl
import FrontProxy
import FrontTesting
import MQTTWire
import Testing

/// Established sessions leave their SwiftNIO channels for a relay thread (`relay_threads`): against
/// real mosquitto and redis-server, what a client sees and what the front reports must not change.
@Suite("Relay threads")
struct RelayThreadTests {
    /// `count` pairs through the front: subscriber `NAME-sI` on topic `NAME/I` (with
    /// `subscriberKeepAlive`) and publisher `NAME-pI`; each CONNACK accepted. With `keepFresh`, the
    /// subscribers already connected send a PINGREQ before each new pair (their PINGRESPs are left
    /// for ``MQTTTestClient/nextPublish(timeout:)`` to skip), so a short keepalive does not expire
    /// while the pairs connect slowly on a loaded machine.
    static func pairs(
        port: Int, name: String, count: Int, subscriberKeepAlive: UInt16 = 60, keepFresh: Bool = false
    ) async throws -> (subscribers: [MQTTTestClient], publishers: [MQTTTestClient]) {
        var subscribers: [MQTTTestClient] = []
        var publishers: [MQTTTestClient] = []
        for index in 0..<count {
            if keepFresh { try await ping(subscribers) }
            let (subscriber, subCode) = try await MQTTTestClient.connect(
                port: port, clientID: "\(name)-s\(index)", keepAlive: subscriberKeepAlive)
            let (publisher, pubCode) = try await MQTTTestClient.connect(port: port, clientID: "\(name)-p\(index)")
            #expect(subCode == 0 && pubCode == 0)
            try await subscriber.subscribe("\(name)/\(index)")
            subscribers.append(subscriber)
            publishers.append(publisher)
        }
        return (subscribers, publishers)
    }

    /// A PINGREQ from each client: activity that restarts its idle deadline (the PINGRESP is not read).
    static func ping(_ clients: [MQTTTestClient]) async throws {
        for client in clients { try await client.ping() }
    }

    @Test("an MQTT session moves to a relay thread after its CONNACK; pub/sub, bytes, reason unchanged")
    func mqttSessionRelayed() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port])) { front in
                // The start line says what slice the relay thread runs with (100us unless the kernel has none).
                let started = front.logs.all.first { $0.message.hasPrefix("relay threads") }
                #expect(
                    started?.metadata["slice"] == "100us" || started?.metadata["reason"] != nil,
                    "\(String(describing: started))")
                let port = try front.port()
                let (subscriber, subCode) = try await MQTTTestClient.connect(port: port, clientID: "relay-sub")
                let (publisher, pubCode) = try await MQTTTestClient.connect(port: port, clientID: "relay-pub")
                #expect(subCode == 0 && pubCode == 0)
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayedSessions == 2 })
                try await subscriber.subscribe("relay/t")
                for index in 0..<50 {
                    try await publisher.publish(topic: "relay/t", payload: Array("m\(index)".utf8))
                }
                for index in 0..<50 {
                    let message = try await subscriber.nextPublish(timeout: .seconds(3))
                    #expect(message.payload == Array("m\(index)".utf8))
                }
                let listed = await front.runner.proxy.sessions(
                    matching: SessionFilter(clientID: "relay-pub"), offset: 0, limit: 10)
                #expect(listed.total == 1)
                // CONNECT (22 bytes for this id) + 50 PUBLISH of 11-12 bytes.
                let sent = listed.page.first?.bytes_in ?? 0
                #expect(sent > 22 + 50 * 10)
                await publisher.disconnect()
                let line = await front.waitForSessionClosed(matching: ["client_id": "relay-pub"])
                #expect(line?["reason"] == "client_closed")
                #expect(line?["bytes_in"] == "\(sent + 2)", "the DISCONNECT's 2 bytes follow the listed count")
                #expect(line?["server"] == "b1")
                await subscriber.disconnect()
                #expect(await front.waitForActive(0))
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayedSessions == 0 })
                #expect(front.runner.proxy.activeSessions == 0)
                // Nothing keeps a finished relayed session alive (its link's callback once did).
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
            }
        }
    }

    @Test("relay_threads 0 keeps every session on its channels")
    func relayThreadsOff() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port])
            config.relayThreads = 0
            try await withFront(config) { front in
                let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "on-nio")
                #expect(code == 0)
                try await client.subscribe("nio/t")
                try await client.publish(topic: "nio/t", payload: [1, 2, 3])
                #expect(try await client.nextPublish(timeout: .seconds(3)).payload == [1, 2, 3])
                #expect(front.runner.proxy.relayedSessions == 0)
                #expect(!front.logs.all.contains { $0.message.hasPrefix("relay threads") })
                await client.disconnect()
                #expect(await front.waitForActive(0))
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
            }
        }
    }

    @Test(
        "relay_spread: sessions start on the first relay thread and, once old enough, half move to the second; moved sessions relay, close on request, on DISCONNECT and at the idle deadline"
    )
    func spreadAcrossRelayThreads() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port]) { listener in
                listener.keepaliveMin = .seconds(1)
            }
            config.relayThreads = 2
            config.relaySpread = .milliseconds(300)
            try await withFront(config) { front in
                let port = try front.port()
                // The subscribers' keepalive (4 s: idle deadline 6 s, MQTT 3.1.1 §3.1.2.10) is short so
                // the idle phase below is quick; until then they ping at every step, however slowly
                // the steps go on a loaded machine.
                let (subscribers, publishers) = try await Self.pairs(
                    port: port, name: "spread", count: 10, subscriberKeepAlive: 4, keepFresh: true)
                // New sessions start on the first thread; older than 300 ms, half of them move.
                #expect(
                    await Poll.until(timeout: .seconds(10)) { front.runner.proxy.relayedSessions == 20 },
                    "\(front.runner.proxy.relayStatus)")
                try await Self.ping(subscribers)
                #expect(
                    await Poll.until(timeout: .seconds(10)) { front.runner.proxy.relayStatus.perThread == [10, 10] },
                    "\(front.runner.proxy.relayStatus)")
                try await Self.ping(subscribers)
                let report = StatusReport(proxy: front.runner.proxy)
                #expect(report.relay?.sessions_per_thread == [10, 10])
                for round in 0..<20 {
                    for (index, publisher) in publishers.enumerated() {
                        try await publisher.publish(topic: "spread/\(index)", payload: Array("m\(round)".utf8))
                    }
                }
                try await Self.ping(subscribers)
                for (index, subscriber) in subscribers.enumerated() {
                    try await Self.ping(Array(subscribers[index...]))
                    for round in 0..<20 {
                        let message = try await subscriber.nextPublish(timeout: .seconds(3))
                        #expect(message.payload == Array("m\(round)".utf8), "subscriber \(index)")
                    }
                }
                // A close request reaches a session wherever it is now: all twenty, whichever thread.
                #expect(await front.runner.proxy.closeSessions(clientID: "spread-p0") == 1)
                #expect(await publishers[0].connection.waitForClose(timeout: .seconds(3)))
                #expect(await front.waitForSessionClosed(matching: ["client_id": "spread-p0"])?["reason"] == "admin")
                for index in 1..<10 {
                    await publishers[index].disconnect()
                    let line = await front.waitForSessionClosed(matching: ["client_id": "spread-p\(index)"])
                    #expect(line?["reason"] == "client_closed")
                }
                // The subscribers go silent: each is closed at its idle deadline on whichever thread.
                for (index, subscriber) in subscribers.enumerated() {
                    #expect(await subscriber.connection.waitForClose(timeout: .seconds(10)), "subscriber \(index)")
                    let line = await front.waitForSessionClosed(matching: ["client_id": "spread-s\(index)"])
                    #expect(line?["reason"] == "idle_timeout")
                    await subscriber.close()
                }
                for publisher in publishers { await publisher.close() }
                #expect(await front.waitForActive(0))
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayStatus.perThread == [0, 0] })
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
            }
        }
    }

    @Test(
        "relay_assist: bursts from 20 publishers through mosquitto (sessions a second old) are shared with the assist thread (relay.assisted in /status) and arrive whole and in order; DISCONNECT still closes; off, /status has no assisted"
    )
    func assistThreadSharesBursts() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port])
            config.relayAssist = true
            try await withFront(config) { front in
                let port = try front.port()
                let (subscribers, publishers) = try await Self.pairs(port: port, name: "assist", count: 20)
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayedSessions == 40 })
                // Sessions are shared once a second old (younger ones are a connect storm's).
                try await Task.sleep(for: .milliseconds(1100))
                // Rounds of publishes from all publishers at once, until the assist thread took part
                // (it does within a few; at most 40 rounds).
                var round = 0
                while round < 5 || (StatusReport(proxy: front.runner.proxy).relay?.assisted ?? 0 == 0 && round < 40) {
                    let current = round
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (index, publisher) in publishers.enumerated() {
                            group.addTask {
                                try await publisher.publish(
                                    topic: "assist/\(index)", payload: Array("m\(current)".utf8))
                            }
                        }
                        try await group.waitForAll()
                    }
                    for (index, subscriber) in subscribers.enumerated() {
                        let message = try await subscriber.nextPublish(timeout: .seconds(3))
                        #expect(message.payload == Array("m\(round)".utf8), "subscriber \(index), round \(round)")
                    }
                    round += 1
                }
                let assisted = StatusReport(proxy: front.runner.proxy).relay?.assisted ?? 0
                #expect(assisted > 0, "after \(round) rounds")
                for index in 0..<20 {
                    await publishers[index].disconnect()
                    let line = await front.waitForSessionClosed(matching: ["client_id": "assist-p\(index)"])
                    #expect(line?["reason"] == "client_closed")
                }
                for subscriber in subscribers { await subscriber.close() }
                for publisher in publishers { await publisher.close() }
                #expect(await front.waitForActive(0))
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
            }
            config.relayAssist = false
            try await withFront(config) { front in
                #expect(StatusReport(proxy: front.runner.proxy).relay?.assisted == nil)
                #expect(StatusReport(proxy: front.runner.proxy).relay?.threads == 1)
            }
        }
    }

    @Test("a silent relayed client is closed at 1.5 × keepalive; an operator can close a relayed session")
    func deadlinesAndAdminClose() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) { listener in
                listener.keepaliveMin = .seconds(1)
            }
            try await withFront(config) { front in
                let port = try front.port()
                let started = ContinuousClock.now
                let (silent, silentCode) = try await MQTTTestClient.connect(
                    port: port, clientID: "relay-silent", keepAlive: 2)
                let (victim, victimCode) = try await MQTTTestClient.connect(port: port, clientID: "relay-victim")
                #expect(silentCode == 0 && victimCode == 0)
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayedSessions == 2 })
                #expect(await front.runner.proxy.closeSessions(clientID: "relay-victim") == 1)
                #expect(await victim.connection.waitForClose(timeout: .seconds(3)))
                let adminLine = await front.waitForSessionClosed(matching: ["client_id": "relay-victim"])
                #expect(adminLine?["reason"] == "admin")
                #expect(await silent.connection.waitForClose(timeout: .seconds(6)))
                // The instant the client saw the close, not when this line runs (the steps above can
                // take seconds on a loaded box).
                let waited = (await silent.connection.closedAt() ?? .now) - started
                #expect(
                    waited >= .milliseconds(2_900) && waited <= .milliseconds(5_000), "closed \(waited) after CONNECT")
                let idleLine = await front.waitForSessionClosed(matching: ["client_id": "relay-silent"])
                #expect(idleLine?["reason"] == "idle_timeout")
                await silent.close()
                await victim.close()
                #expect(await front.waitForActive(0))
                #expect(front.runner.proxy.relayedSessions == 0)
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.sessionHandlersAlive == 0 })
            }
        }
    }

    @Test("8 MiB each way through a relayed tcp session with a slow reader arrive intact")
    func bulkWithBackpressure() async throws {
        try await withRedis { redis in
            let config = TestConfig.front(
                listeners: [TestConfig.mqttListener(name: "redis", backend: "redis") { $0.protocol = .tcp }],
                backends: [TestConfig.backend(name: "redis", ports: [redis.port], balance: .roundRobin)])
            try await withFront(config) { front in
                let client = try await TestClient.connect(port: try front.port("redis"))
                try await client.send("PING\r\n")
                #expect(try await client.read(count: 7, timeout: .seconds(3)) == Array("+PONG\r\n".utf8))
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayedSessions == 1 })
                let size = 8 << 20
                let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 13) }
                var command = Array("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$\(size)\r\n".utf8)
                command += value
                command += Array("\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".utf8)
                try await client.send(command)
                #expect(try await client.read(count: 5, timeout: .seconds(10)) == Array("+OK\r\n".utf8))
                let header = Array("$\(size)\r\n".utf8)
                #expect(try await client.read(count: header.count, timeout: .seconds(5)) == header)
                // Read slowly so the front's backlog toward the client fills and drains several times.
                var received: [UInt8] = []
                while received.count < size {
                    let chunk = min(1 << 20, size - received.count)
                    received += try await client.read(count: chunk, timeout: .seconds(10))
                    try await Task.sleep(for: .milliseconds(30))
                }
                #expect(received == value)
                #expect(try await client.read(count: 2, timeout: .seconds(3)) == Array("\r\n".utf8))
                try await client.shutdownOutput()
                #expect(await client.waitForClose(timeout: .seconds(3)))
                await client.close()
                let line = await front.waitForSessionClosed(matching: ["listener": "redis"])
                #expect(line?["reason"] == "client_closed")
                #expect(Int(line?["bytes_out"] ?? "") == 7 + 5 + header.count + size + 2)
                #expect(await front.waitForActive(0, listener: "redis"))
            }
        }
    }
}
