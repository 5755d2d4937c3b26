import Foundation
import FrontConfig
import FrontCore
import FrontTesting
import MQTTWire
import Testing

/// Sessions moved off a broker (evacuation, rebalancing): what the broker and the clients see, with
/// real mosquitto brokers and the Eclipse Paho client, on the relay threads and on SwiftNIO.
@Suite("Moving sessions")
struct MoveTests {
    /// Two brokers by client id, admin plane on, `move_rate` 100, a Server Reference; `listener`
    /// adds to the listener's settings.
    static func config(
        _ ports: [Int], on shell: Shell = .relayThreads, listener: (inout ListenerConfig) -> Void = { _ in }
    ) -> FrontConfiguration {
        TestConfig.mqttFront(ports: ports, admin: true, listener: listener) { backend in
            backend.moveRate = 100
            backend.serverReference = "broker-2.example:1883"
        }.on(shell)
    }

    /// Paho through the front: prints its CONNACK, then how it was disconnected, then exits.
    /// Arguments: port, client id, then optionally `5` (the default) or `311`, and a CA file to
    /// connect with TLS. Run by Debian's python3 (`python3-paho-mqtt`), not one a virtualenv puts
    /// first on PATH.
    static let pahoScript = """
        import sys, time
        import paho.mqtt.client as mqtt
        port, cid = int(sys.argv[1]), sys.argv[2]
        version = sys.argv[3] if len(sys.argv) > 3 else "5"
        cafile = sys.argv[4] if len(sys.argv) > 4 else None
        done = []
        def on_connect(client, userdata, flags, rc, props=None):
            print("CONNACK", rc.value if hasattr(rc, "value") else rc, flush=True)
        def on_disconnect(client, userdata, rc, props=None):
            ref = getattr(props, "ServerReference", "-") if props is not None else "-"
            print("DISCONNECT", rc.value if hasattr(rc, "value") else rc, ref, flush=True)
            done.append(1)
        c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5 if version == "5" else mqtt.MQTTv311)
        if cafile:
            c.tls_set(ca_certs=cafile)
        c.will_set("will/" + cid, b"gone")
        c.on_connect, c.on_disconnect = on_connect, on_disconnect
        c.connect("127.0.0.1", port, keepalive=60)
        c.loop_start()
        deadline = time.time() + 20
        while not done and time.time() < deadline:
            time.sleep(0.05)
        c.loop_stop()
        """

    @Test(
        "evacuation: MQTT 5 (Paho and raw) get DISCONNECT 0x9C with the Server Reference, MQTT 3.1.1 is closed; the broker publishes no Will",
        arguments: Shell.allCases
    )
    func evacuateTellsClients(shell: Shell) async throws {
        try await withMosquittos(2) { brokers in
            try await withFront(Self.config(brokers.map(\.port), on: shell)) { front in
                let port = try front.port()
                let watcher = try await WillWatcher.start(brokers)
                try await MoveSupport.setState(front, "b2", "drain")
                let directory = try TemporaryDirectory(prefix: "paho")
                defer { directory.remove() }
                let script = try directory.write(Self.pahoScript, to: "paho_client.py")
                let paho = try ChildProcess.launch(
                    "/usr/bin/python3", [script, "\(port)", "paho-1"], outputDirectory: directory.path)
                #expect(
                    await Poll.until(timeout: .seconds(10)) { paho.stdoutText().contains("CONNACK 0") },
                    "\(paho.stderrText())")
                let (v5, v5Code) = try await MQTTTestClient.connect(
                    port: port, clientID: "raw-5", version: .v5, will: MoveSupport.will("raw-5"))
                let (v311, v311Code) = try await MQTTTestClient.connect(
                    port: port, clientID: "raw-311", will: MoveSupport.will("raw-311"))
                #expect(v5Code == 0 && v311Code == 0)
                #expect(await shell.carries(3, on: front))
                try await MoveSupport.setState(front, "b2", "ready")

                let answer = try await MoveSupport.post(front, "/backends/brokers/servers/b1/evacuate")
                #expect(answer.status == 202, "\(answer.body)")
                #expect(try JSONValue.parse(answer.body)["state"]?.string == "drain")

                #expect(await Poll.until(timeout: .seconds(10)) { paho.stdoutText().contains("DISCONNECT") })
                #expect(paho.stdoutText().contains("DISCONNECT 156 broker-2.example:1883"), "\(paho.stdoutText())")
                let packet = try await v5.readPacket(timeout: .seconds(5))
                #expect(
                    packet.bytes
                        == MQTTPacket.serverDisconnect(reasonCode: 0x9C, serverReference: "broker-2.example:1883"))
                #expect(await v5.connection.waitForClose(timeout: .seconds(5)))
                #expect(await v311.connection.waitForClose(timeout: .seconds(5)))
                let leftover = try? await v311.connection.read(count: 1, timeout: .milliseconds(100))
                #expect(leftover == nil, "a 3.1.1 client gets no packet, only the close")

                for id in ["paho-1", "raw-5", "raw-311"] {
                    let line = await front.waitForSessionClosed(matching: ["client_id": id])
                    #expect(line?["reason"] == "moved" && line?["cause"] == "evacuate", "\(String(describing: line))")
                }
                #expect(
                    front.metric("brokerfront_sessions_moved_total", ["server": "b1", "reason": "evacuate"]) == 3)
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.runner.proxy.routing.snapshot.backend(named: "brokers")?.server(named: "b1")?
                            .activeConnections == 0
                    })
                // Mosquitto publishes a Will at once on an abnormal end; give it a moment to show.
                #expect(await Poll.until(timeout: .seconds(1)) { !watcher.seen.isEmpty } == false, "\(watcher.seen)")
                _ = await paho.stop()
                await v5.close()
                await v311.close()
                await watcher.stop()
            }
        }
    }

    @Test(
        "a PUBLISH in flight when the move begins reaches the broker whole before the DISCONNECT; one never finished is cut after the wait",
        arguments: Shell.allCases
    )
    func packetInFlightFinishes(shell: Shell) async throws {
        try await withMosquittos(2) { brokers in
            try await withFront(Self.config(brokers.map(\.port), on: shell)) { front in
                let port = try front.port()
                let watcher = try await WillWatcher.start(brokers)
                let (subscriber, subscribed) = try await MQTTTestClient.connect(port: brokers[0].port, clientID: "sub")
                #expect(subscribed == 0)
                try await subscriber.subscribe("big/#")
                try await MoveSupport.setState(front, "b2", "drain")
                let (sender, code) = try await MQTTTestClient.connect(
                    port: port, clientID: "sender", will: MoveSupport.will("sender"))
                let (stuck, stuckCode) = try await MQTTTestClient.connect(
                    port: port, clientID: "stuck", will: MoveSupport.will("stuck"))
                #expect(code == 0 && stuckCode == 0)
                #expect(await shell.carries(2, on: front))
                try await MoveSupport.setState(front, "b2", "ready")

                let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
                let publish = MQTTPacket.publish(topic: "big/1", payload: payload)
                try await sender.connection.send(Array(publish.prefix(10_000)))
                try await stuck.connection.send(Array(publish.prefix(5_000)))
                let started = ContinuousClock.now
                let answer = try await MoveSupport.post(front, "/backends/brokers/servers/b1/evacuate")
                #expect(answer.status == 202)
                try await Task.sleep(for: .milliseconds(300))  // the rest arrives later, as on a slow link
                #expect(await sender.connection.closedAt() == nil, "closed in the middle of its PUBLISH")
                try await sender.connection.send(Array(publish.dropFirst(10_000)))

                let received = try await subscriber.nextPublish(timeout: .seconds(5))
                #expect(received.topic == "big/1" && received.payload == payload)
                #expect(await sender.connection.waitForClose(timeout: .seconds(5)))
                let senderLine = await front.waitForSessionClosed(matching: ["client_id": "sender"])
                #expect(senderLine?["reason"] == "moved")

                // The one that never finishes its packet is closed once the wait is over (at least 1 s).
                #expect(await stuck.connection.waitForClose(timeout: .seconds(5)))
                let stuckAfter = (await stuck.connection.closedAt()).map { $0 - started }
                #expect((stuckAfter ?? .zero) >= .seconds(1), "\(String(describing: stuckAfter))")
                #expect(await Poll.until(timeout: .seconds(5)) { watcher.seen.contains("will/stuck") })
                #expect(!watcher.seen.contains("will/sender"), "\(watcher.seen)")
                await sender.close()
                await stuck.close()
                await subscriber.close()
                await watcher.stop()
            }
        }
    }

    @Test(
        "a PUBLISH from the broker in flight when the move begins reaches a slow subscriber whole before its close; the broker publishes no Will",
        arguments: Shell.allCases
    )
    func serverPacketInFlightFinishes(shell: Shell) async throws {
        try await withMosquittos(2) { brokers in
            try await withFront(Self.config(brokers.map(\.port), on: shell)) { front in
                let port = try front.port()
                let watcher = try await WillWatcher.start(brokers)
                try await MoveSupport.setState(front, "b2", "drain")
                let directory = try TemporaryDirectory(prefix: "slow-sub")
                defer { directory.remove() }
                let script = try directory.write(MoveSupport.slowSubscriberScript, to: "slow_subscriber.py")
                let marker = "\(directory.path)/read-now"
                let subscriber = try ChildProcess.launch(
                    "/usr/bin/python3", [script, "\(port)", "slow", marker], outputDirectory: directory.path)
                #expect(
                    await Poll.until(timeout: .seconds(10)) { subscriber.stdoutText().contains("READY") },
                    "\(subscriber.stderrText())")
                #expect(await shell.carries(1, on: front))
                try await MoveSupport.setState(front, "b2", "ready")
                let (publisher, code) = try await MQTTTestClient.connect(port: brokers[0].port, clientID: "pub")
                #expect(code == 0)
                let payload = [UInt8](repeating: 0x5A, count: 8_000_000)
                let publish = MQTTPacket.publish(topic: "big/1", payload: payload)
                try await publisher.connection.send(publish)
                // The subscriber reads nothing: the front is left in the middle of the broker's PUBLISH.
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_bytes_total", ["direction": "out"]) ?? 0 > 10_000
                    }, "\(front.metricsText.split(separator: "\n").filter { $0.contains("bytes_total") })")
                try await Task.sleep(for: .milliseconds(200))  // buffers fill up toward the subscriber
                let relayed = front.metric("brokerfront_bytes_total", ["direction": "out"]) ?? 0
                #expect(relayed < Double(publish.count), "the move must begin in the middle of the PUBLISH")

                let answer = try await MoveSupport.post(front, "/backends/brokers/servers/b1/evacuate")
                #expect(answer.status == 202)
                try await Task.sleep(for: .milliseconds(300))  // the subscriber reads later, as on a slow link
                #expect(FileManager.default.createFile(atPath: marker, contents: nil))
                #expect(await Poll.until(timeout: .seconds(10)) { subscriber.stdoutText().contains("EOF") })
                #expect(
                    subscriber.stdoutText() == "READY\nPACKET 3 \(2 + "big/1".utf8.count + payload.count)\nEOF\n",
                    "\(subscriber.stdoutText()) \(subscriber.stderrText())")
                let line = await front.waitForSessionClosed(matching: ["client_id": "slow"])
                #expect(line?["reason"] == "moved", "\(String(describing: line))")
                #expect(await Poll.until(timeout: .seconds(1)) { !watcher.seen.isEmpty } == false, "\(watcher.seen)")
                _ = await subscriber.stop()
                await publisher.close()
                await watcher.stop()
            }
        }
    }

    @Test("rebalance after a third broker returns moves exactly the sessions whose owner by client id changed")
    func rebalanceMovesOnlyChangedOwners() async throws {
        try await withMosquittos(3) { brokers in
            try await withFront(Self.config(brokers.map(\.port))) { front in
                let port = try front.port()
                try await MoveSupport.setState(front, "b3", "maint")
                let ids = (0..<60).map { "rebalance-\($0)" }
                let clients = try await MoveSupport.connectAll(ids, port: port)
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                try await MoveSupport.setState(front, "b3", "ready")
                let owners = Dictionary(
                    uniqueKeysWithValues: ids.map { id in
                        (
                            id,
                            backend.preferredServer(for: RoutingKey(clientID: id, sourceIP: "127.0.0.1"), at: .now())?
                                .name
                        )
                    })
                let expected = Set(ids.filter { owners[$0] == "b3" })
                #expect(!expected.isEmpty && expected.count < ids.count)

                let answer = try await MoveSupport.post(front, "/backends/brokers/rebalance", #"{"rate":200}"#)
                #expect(answer.status == 202, "\(answer.body)")
                #expect(
                    await Poll.until(timeout: .seconds(10)) {
                        let moved = ["b1", "b2"].map {
                            front.metric("brokerfront_sessions_moved_total", ["server": $0, "reason": "rebalance"]) ?? 0
                        }
                        return moved.reduce(0, +) == Double(expected.count)
                    }, "\(front.metricsText.split(separator: "\n").filter { $0.contains("moved") })")
                var closed = Set<String>()
                for (id, client) in clients where await client.connection.waitForClose(timeout: .milliseconds(10)) {
                    closed.insert(id)
                }
                #expect(closed == expected)
                #expect(
                    await Poll.until(timeout: .seconds(3)) {
                        front.runner.proxy.mover.progress(backend: "brokers", server: nil) == nil
                    })
                for client in clients.values { await client.close() }
            }
        }
    }
}

/// The admin plane's side of moves: answers, progress in `/status` and the metrics.
@Suite("Moving sessions: admin plane")
struct MoveAdminTests {
    @Test(
        "evacuate and rebalance answer 404 for unknown names and 400 for a bad body; /status shows a move's progress while it runs"
    )
    func answersAndProgress() async throws {
        try await withMosquittos(2) { brokers in
            try await withFront(MoveTests.config(brokers.map(\.port))) { front in
                let port = try front.port()
                #expect(try await MoveSupport.post(front, "/backends/nope/servers/b1/evacuate").status == 404)
                #expect(try await MoveSupport.post(front, "/backends/brokers/servers/nope/evacuate").status == 404)
                #expect(try await MoveSupport.post(front, "/backends/nope/rebalance").status == 404)
                #expect(try await MoveSupport.post(front, "/sessions/nobody/move").status == 404)
                for body in [#"{"rate":-1}"#, #"{"rate":"fast"}"#, "not json"] {
                    let answer = try await MoveSupport.post(front, "/backends/brokers/servers/b1/evacuate", body)
                    #expect(answer.status == 400, "\(body): \(answer.body)")
                }
                let b1 = try #require(
                    front.runner.proxy.routing.snapshot.backend(named: "brokers")?.server(named: "b1"))
                #expect(b1.displayState == "up", "a refused request changed nothing")

                try await MoveSupport.setState(front, "b2", "drain")
                let clients = try await MoveSupport.connectAll((0..<40).map { "progress-\($0)" }, port: port)
                try await MoveSupport.setState(front, "b2", "ready")
                let answer = try await MoveSupport.post(
                    front, "/backends/brokers/servers/b1/evacuate", #"{"rate":10}"#)
                #expect(answer.status == 202)
                let adminPort = try #require(front.runner.adminPort)
                var moving: JSONValue?
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        let body = (try? await HTTPTestClient.get(port: adminPort, path: "/status").body) ?? ""
                        moving = (try? JSONValue.parse(body))?["backends"]?[0]?["servers"]?[0]?["moving"]
                        return (moving?["remaining"]?.number ?? 0) > 0
                    })
                #expect(moving?["rate"]?.number == 10)
                #expect(moving?["cause"]?.string == "evacuate")
                #expect((moving?["eta_seconds"]?.number ?? 0) > 0)
                #expect(moving?["started"]?.string?.hasPrefix("20") == true, "\(String(describing: moving))")
                #expect((front.metric("brokerfront_sessions_waiting_to_move", ["backend": "brokers"]) ?? 0) > 0)
                // Faster now: a second evacuation of the same server takes the first one's place.
                #expect(try await MoveSupport.post(front, "/backends/brokers/servers/b1/evacuate").status == 202)
                #expect(await Poll.until(timeout: .seconds(10)) { b1.activeConnections == 0 })
                #expect(
                    await Poll.until(timeout: .seconds(3)) {
                        front.runner.proxy.mover.progress(backend: "brokers", server: "b1") == nil
                    })
                let status = try await HTTPTestClient.get(port: adminPort, path: "/status").body
                #expect(try JSONValue.parse(status)["backends"]?[0]?["servers"]?[0]?["moving"] == nil, "\(status)")
                #expect(front.metric("brokerfront_sessions_waiting_to_move", ["backend": "brokers"]) == 0)
                for client in clients.values { await client.close() }
            }
        }
    }
}

/// `on_failback: close` moves the backup's sessions back at the backend's rate.
@Suite("Moving sessions: failback")
struct MoveFailbackTests {
    @Test(
        "active-passive: when the primary is ready again, the sessions on the backup move (cause failback), none is refused"
    )
    func failbackMoves() async throws {
        try await withMosquittos(2) { brokers in
            let config = TestConfig.mqttFront(ports: brokers.map(\.port), balance: .first, admin: true) { _ in
            } backend: { backend in
                backend.servers[1].backup = true
                backend.moveRate = 100
            }.on(.relayThreads)
            try await withFront(config) { front in
                let port = try front.port()
                let watcher = try await WillWatcher.start(brokers)
                try await MoveSupport.setState(front, "b1", "maint")
                let ids = (0..<20).map { "failback-\($0)" }
                let clients = try await MoveSupport.connectAll(ids, port: port)
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                #expect(backend.server(named: "b2")?.activeConnections == ids.count)
                try await MoveSupport.setState(front, "b1", "ready")
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_sessions_moved_total", ["server": "b2", "reason": "failback"])
                            == Double(ids.count)
                    })
                for client in clients.values { #expect(await client.connection.waitForClose(timeout: .seconds(2))) }
                let line = await front.waitForSessionClosed(matching: ["client_id": "failback-3"])
                #expect(line?["reason"] == "moved" && line?["cause"] == "failback", "\(String(describing: line))")
                #expect(await Poll.until(timeout: .seconds(1)) { !watcher.seen.isEmpty } == false, "\(watcher.seen)")
                await watcher.stop()
            }
        }
    }
}

/// A `tcp` session (Redis) has no packets the front knows: a move closes it.
@Suite("Moving sessions: tcp")
struct MoveTCPTests {
    @Test("evacuating a Redis server closes its tcp sessions at once, reason moved", arguments: Shell.allCases)
    func tcpSessionsClose(shell: Shell) async throws {
        try await withRedis { redis in
            let config = TestConfig.front(
                listeners: [TestConfig.mqttListener(name: "redis", backend: "redis") { $0.protocol = .tcp }],
                backends: [TestConfig.backend(name: "redis", ports: [redis.port], balance: .roundRobin)], admin: true
            ).on(shell)
            try await withFront(config) { front in
                let client = try await TestClient.connect(port: try front.port("redis"))
                try await client.send("PING\r\n")
                #expect(
                    try await client.read(until: Array("\r\n".utf8), timeout: .seconds(5)) == Array("+PONG\r\n".utf8))
                let answer = try await MoveSupport.post(front, "/backends/redis/servers/b1/evacuate")
                #expect(answer.status == 202, "\(answer.body)")
                #expect(await client.waitForClose(timeout: .seconds(5)))
                let line = await front.waitForSessionClosed(matching: ["backend": "redis"])
                #expect(line?["reason"] == "moved" && line?["cause"] == "evacuate", "\(String(describing: line))")
                await client.close()
            }
        }
    }
}

/// `rebalance: auto`.
@Suite("Moving sessions: rebalance auto")
struct MoveRebalanceAutoTests {
    @Test("rebalance: auto — a server made ready again gets back the sessions it owns by client id, and only those")
    func readyRebalances() async throws {
        try await withMosquittos(2) { brokers in
            let config = TestConfig.mqttFront(ports: brokers.map(\.port), admin: true) { _ in
            } backend: { backend in
                backend.rebalance = .auto
                backend.moveRate = 200
            }.on(.relayThreads)
            try await withFront(config) { front in
                let port = try front.port()
                try await MoveSupport.setState(front, "b2", "maint")
                let ids = (0..<30).map { "auto-\($0)" }
                let clients = try await MoveSupport.connectAll(ids, port: port)
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                try await MoveSupport.setState(front, "b2", "ready")
                let owned = ids.filter {
                    backend.preferredServer(for: RoutingKey(clientID: $0, sourceIP: ""), at: .now())?.name == "b2"
                }
                #expect(!owned.isEmpty && owned.count < ids.count)
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_sessions_moved_total", ["server": "b1", "reason": "rebalance"])
                            == Double(owned.count)
                    })
                var closed: [String] = []
                for (id, client) in clients where await client.connection.waitForClose(timeout: .milliseconds(10)) {
                    closed.append(id)
                }
                #expect(Set(closed) == Set(owned))
                for client in clients.values { await client.close() }
            }
        }
    }
}
