import Foundation
import FrontConfig
import FrontCore
import FrontTesting
import MQTTWire
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Moves in bulk at a rate, with thousands of real sessions on mosquitto: an evacuation, the
/// shutdown drain, a server set to maint or removed by a reload. Their timings mean something only
/// on a machine the rest of the suite is not crowding: `scripts/run-tests.sh` runs them on their own.
@Suite("Evacuation at a rate")
struct EvacuationTests {
    static func config(_ ports: [Int], drain: Duration = .milliseconds(300)) -> FrontConfiguration {
        var config = TestConfig.mqttFront(ports: ports, admin: true).on(.relayThreads)
        config.drainTimeout = drain
        return config
    }

    @Test(
        "2,000 sessions leave a server at 500/s in 4 s ± 20 %: the others see about 1.2× the rate of CONNECTs at most in any 100 ms, every reconnect is served, no moved client's Will is published, a killed client's is"
    )
    func evacuateTwoThousand() async throws {
        try await withMosquittos(3) { brokers in
            try await withFront(Self.config(brokers.map(\.port))) { front in
                let port = try front.port()
                let watcher = try await WillWatcher.start(brokers)
                try await MoveSupport.setState(front, "b2", "drain")
                try await MoveSupport.setState(front, "b3", "drain")
                let ids = (0..<2_000).map { "device-\($0)" }
                let clients = try await MoveSupport.connectAll(ids, port: port)

                // A client with a Will that really dies: its broker must publish the Will.
                let directory = try TemporaryDirectory(prefix: "killed")
                defer { directory.remove() }
                let killed = try ChildProcess.launch(
                    "mosquitto_sub",
                    [
                        "-h", "127.0.0.1", "-p", "\(port)", "-i", "killed-1", "-t", "nothing", "--will-topic",
                        "will/killed-1", "--will-payload", "gone",
                    ], outputDirectory: directory.path)
                let b1 = try #require(
                    front.runner.proxy.routing.snapshot.backend(named: "brokers")?.server(named: "b1"))
                #expect(await Poll.until(timeout: .seconds(10)) { b1.activeConnections == 2_001 })
                killed.send(signal: SIGKILL)
                #expect(await Poll.until(timeout: .seconds(5)) { watcher.seen.contains("will/killed-1") })
                try await MoveSupport.setState(front, "b2", "ready")
                try await MoveSupport.setState(front, "b3", "ready")

                // Each client reconnects at once when it is closed; when it sent its CONNECT is kept.
                let reconnects = NIOLockedValueBox<[(time: ContinuousClock.Instant, code: UInt8)]>([])
                let replacements = NIOLockedValueBox<[MQTTTestClient]>([])
                let started = ContinuousClock.now
                let answer = try await MoveSupport.post(
                    front, "/backends/brokers/servers/b1/evacuate", #"{"rate":500}"#)
                #expect(answer.status == 202, "\(answer.body)")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (id, client) in clients {
                        group.addTask {
                            guard await client.connection.waitForClose(timeout: .seconds(30)) else { return }
                            let sent = ContinuousClock.now
                            let (again, code) = try await MQTTTestClient.connect(
                                port: port, clientID: id, will: MoveSupport.will(id), timeout: .seconds(10))
                            reconnects.withLockedValue { $0.append((sent, code)) }
                            replacements.withLockedValue { $0.append(again) }
                        }
                    }
                    #expect(await Poll.until(timeout: .seconds(15)) { b1.activeConnections == 0 })
                    let took = (ContinuousClock.now - started).inSeconds
                    #expect(took >= 3.2 && took <= 4.8, "the evacuation took \(took) s")
                    try await group.waitForAll()
                }

                let done = reconnects.withLockedValue { $0 }
                #expect(done.count == ids.count)
                #expect(done.allSatisfy { $0.code == 0 }, "refused: \(done.filter { $0.code != 0 }.count)")
                let busiest = MoveSupport.busiestWindow(done.map { ($0.time - started).inSeconds }, width: 0.1)
                // The front begins at most 60 moves in any 100 ms (1.2×) while on schedule; seen from
                // the clients, a few more can fall into one window.
                #expect(busiest <= 65, "\(busiest) CONNECTs in one 100 ms window (500/s is 50)")
                let survivors = ["b2", "b3"].compactMap {
                    front.runner.proxy.routing.snapshot.backend(named: "brokers")?.server(named: $0)?.activeConnections
                }
                #expect(survivors.reduce(0, +) == ids.count)
                #expect(
                    front.metric("brokerfront_sessions_moved_total", ["server": "b1", "reason": "evacuate"]) == 2_000)
                // Every Will the brokers published by now: the killed client's, and no moved one's.
                #expect(
                    await Poll.until(timeout: .seconds(1)) { watcher.seen.count > 1 } == false,
                    "\(watcher.seen.prefix(10))")
                #expect(watcher.seen == ["will/killed-1"])
                for client in replacements.withLockedValue({ $0 }) { await client.close() }
                for client in clients.values { await client.close() }
                await watcher.stop()
            }
        }
    }

    @Test(
        "SIGTERM with 3,000 sessions and drain_timeout 10s: the moves spread over the drain and MQTT 5 clients get DISCONNECT 0x8B"
    )
    func shutdownSpreadsMoves() async throws {
        try await withMosquittos(2) { brokers in
            try await withFront(Self.config(brokers.map(\.port), drain: .seconds(10))) { front in
                let port = try front.port()
                let ids = (0..<3_000).map { "drain-\($0)" }
                let clients = try await MoveSupport.connectAll(ids, port: port, version: .v5)
                let goodbyes = NIOLockedValueBox<[(time: ContinuousClock.Instant, packet: [UInt8])]>([])
                let stopAsked = ContinuousClock.now
                await front.runner.shutdown()
                await withTaskGroup(of: Void.self) { group in
                    for client in clients.values {
                        group.addTask {
                            guard let packet = try? await client.readPacket(timeout: .seconds(15)) else { return }
                            goodbyes.withLockedValue { $0.append((ContinuousClock.now, packet.bytes)) }
                        }
                    }
                }
                let heard = goodbyes.withLockedValue { $0 }
                #expect(heard.count == ids.count)
                #expect(
                    heard.allSatisfy {
                        $0.packet == MQTTPacket.serverDisconnect(reasonCode: 0x8B, serverReference: nil)
                    })
                let times = heard.map { ($0.time - stopAsked).inSeconds }.sorted()
                let spread = (times.last ?? 0) - (times.first ?? 0)
                #expect(spread >= 4.5, "the moves took \(spread) s (3,000 at 500/s is 6 s)")
                #expect((times.last ?? 99) <= 10, "the last move came \(times.last ?? 0) s after the stop")
                let busiest = MoveSupport.busiestWindow(times, width: 0.1)
                #expect(busiest <= 65, "\(busiest) DISCONNECTs in one 100 ms window (500/s is 50)")
                #expect(await front.waitUntilStopped(timeout: .seconds(10)), "run() did not return")
                let line = await front.waitForSessionClosed(matching: ["client_id": "drain-7"])
                #expect(line?["reason"] == "moved" && line?["cause"] == "shutdown")
                for client in clients.values { await client.close() }
            }
        }
    }

    @Test(
        "a server set to maint, and one a reload removes, have their sessions moved (reason moved, cause maint / removed)"
    )
    func maintAndRemovedMove() async throws {
        try await withMosquittos(3) { brokers in
            let config = Self.config(brokers.map(\.port))
            try await withFront(config) { front in
                let port = try front.port()
                try await MoveSupport.setState(front, "b3", "drain")
                let ids = (0..<40).map { "maint-\($0)" }
                let clients = try await MoveSupport.connectAll(ids, port: port)
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                let onB1 = backend.server(named: "b1")?.activeConnections ?? 0
                let onB2 = backend.server(named: "b2")?.activeConnections ?? 0
                #expect(onB1 > 0 && onB2 > 0)
                try await MoveSupport.setState(front, "b3", "ready")

                try await MoveSupport.setState(front, "b1", "maint")
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_sessions_moved_total", ["server": "b1", "reason": "maint"])
                            == Double(onB1)
                    })
                var smaller = config
                smaller.backends[0].servers.removeAll { $0.name == "b2" }
                guard case .applied = await front.runner.reloader.reload(with: smaller) else {
                    Issue.record("the reload was not applied")
                    return
                }
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_sessions_moved_total", ["server": "b2", "reason": "removed"])
                            == Double(onB2)
                    })
                let line = await front.waitForSessionClosed(matching: ["reason": "moved", "cause": "removed"])
                #expect(line?["server"] == "b2")
                for client in clients.values { await client.close() }
            }
        }
    }
}
