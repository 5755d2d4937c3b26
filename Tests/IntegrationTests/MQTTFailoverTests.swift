import FrontConfig
import FrontCore
import FrontTesting
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Three mosquitto brokers routed by client id, a fourth as backup, with `mqtt` checks.
@Suite("MQTT broker failover")
struct MQTTFailoverTests {
    static func config(ports: [Int], backup: Int) -> FrontConfiguration {
        TestConfig.mqttFront(ports: ports + [backup], balance: .clientID, admin: true) { _ in
        } backend: { backend in
            backend.retries = 3
            backend.healthCheck = HealthCheckConfig(
                type: .mqtt, interval: .milliseconds(200), timeout: .seconds(1), rise: 1, fall: 2)
            backend.servers[ports.count].name = "backup"
            backend.servers[ports.count].backup = true
        }
    }

    /// Which broker (by index in `brokers`) holds each of `ids`, read from the brokers' logs after
    /// connecting each id once through the front; also returns the CONNACK codes.
    static func land(_ ids: [String], port: Int, brokers: [MosquittoProcess]) async throws -> [String: Int] {
        var landed: [String: Int] = [:]
        for id in ids {
            // Count only this id's lines: the health checks connect to every broker too.
            let seen = { (broker: MosquittoProcess) in broker.clientsConnected().filter { $0.clientID == id }.count }
            let before = brokers.map(seen)
            let (client, code) = try await MQTTTestClient.connect(port: port, clientID: id)
            #expect(code == 0, "\(id) got CONNACK \(code)")
            _ = await Poll.until(timeout: .seconds(2)) {
                zip(brokers, before).contains { seen($0) > $1 }
            }
            for (index, broker) in brokers.enumerated() where seen(broker) > before[index] {
                landed[id] = index
            }
            await client.disconnect()
        }
        return landed
    }

    @Test(
        "a broker stops: only its clients move; all actives stop: the backup takes them; they return",
        arguments: Shell.allCases)
    func failoverAndFailback(shell: Shell) async throws {
        try await withMosquittos(4) { brokers in
            let actives = Array(brokers.prefix(3))
            try await withFront(Self.config(ports: actives.map(\.port), backup: brokers[3].port).on(shell)) { front in
                let port = try front.port()
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                #expect(
                    await Poll.until(timeout: .seconds(10)) { backend.servers.allSatisfy { $0.displayState == "up" } })
                let ids = (0..<24).map { "device-\($0)" }
                let before = try await Self.land(ids, port: port, brokers: brokers)
                #expect(before.count == ids.count)
                #expect(!before.values.contains(3), "nothing lands on the backup while actives are up")

                // Stop b2: its clients reconnect to survivors, the others keep their broker.
                await brokers[1].stop()
                #expect(await Poll.until(timeout: .seconds(3)) { backend.server(named: "b2")?.displayState == "down" })
                let after = try await Self.land(ids, port: port, brokers: brokers)
                for id in ids {
                    if before[id] == 1 {
                        #expect(after[id] == 0 || after[id] == 2, "\(id) left b2 for a survivor")
                    } else {
                        #expect(after[id] == before[id], "\(id) stayed on its broker")
                    }
                }

                // Stop every active: new clients land on the backup.
                await brokers[0].stop()
                await brokers[2].stop()
                #expect(await Poll.until(timeout: .seconds(3)) { backend.isOnBackupTier })
                let onBackup = try await Self.land(["late-1", "late-2", "late-3"], port: port, brokers: brokers)
                #expect(onBackup.values.allSatisfy { $0 == 3 }, "\(onBackup)")
                #expect(front.metric("brokerfront_failovers_total", ["backend": "brokers"]) ?? 0 >= 1)

                // Bring the actives back on their ports: failback auto moves new clients back.
                var revived: [MosquittoProcess] = []
                for broker in actives { revived.append(try await MosquittoProcess.start(port: broker.port)) }
                defer { Task { [revived] in for broker in revived { await broker.stop() } } }
                #expect(await Poll.until(timeout: .seconds(5)) { !backend.isOnBackupTier })
                let back = try await Self.land(
                    ["late-1", "late-2", "late-3"], port: port, brokers: revived + [brokers[3]])
                #expect(back.values.allSatisfy { $0 != 3 }, "\(back)")
                #expect(
                    front.metric(
                        "brokerfront_health_checks_total", ["backend": "brokers", "server": "b1", "result": "ok"])
                        ?? 0 >= 1)
            }
        }
    }

    @Test("new CONNECTs while a broker is killed never fail when another server is up", arguments: Shell.allCases)
    func connectLoopThroughADeath(shell: Shell) async throws {
        try await withMosquittos(2) { brokers in
            let config = TestConfig.mqttFront(ports: brokers.map(\.port), balance: .clientID) { _ in
            } backend: { backend in
                backend.retries = 2
                backend.healthCheck = HealthCheckConfig(
                    type: .mqtt, interval: .seconds(1), timeout: .milliseconds(500), rise: 1, fall: 2)
            }
            try await withFront(config.on(shell)) { front in
                let port = try front.port()
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                #expect(
                    await Poll.until(timeout: .seconds(10)) { backend.servers.allSatisfy { $0.displayState == "up" } })
                let failures = FailureLog()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(400))
                        await brokers[0].kill()
                    }
                    group.addTask {
                        for index in 0..<80 {
                            let id = "loop-\(index)"
                            do {
                                let (client, code) = try await MQTTTestClient.connect(
                                    port: port, clientID: id, timeout: .seconds(3))
                                if code != 0 { failures.add("\(id): CONNACK \(code)") }
                                await client.disconnect()
                            } catch {
                                failures.add("\(id): \(error)")
                            }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(failures.entries == [])
                #expect(backend.server(named: "b1")?.displayState == "down")
            }
        }
    }
}

/// Failures collected from concurrent tasks.
private final class FailureLog: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])
    func add(_ line: String) { lines.withLockedValue { $0.append(line) } }
    var entries: [String] { lines.withLockedValue { $0 } }
}
