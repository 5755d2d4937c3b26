import FrontConfig
import FrontCore
import FrontTesting
import Testing

/// Redis active-passive through a `tcp` listener with `balance: first` and `redis-master` checks,
/// against a real primary and replica.
@Suite("Redis active-passive failover")
struct RedisFailoverTests {
    static let interval = Duration.milliseconds(200)
    static let fall = 2
    static let rise = 2

    /// A front with one `tcp` listener `redis` in front of `primary` then `replica`.
    static func config(
        primary: Int, replica: Int, failback: FailbackMode, checkTimeout: Duration = .seconds(1)
    ) -> FrontConfiguration {
        let listener = ListenerConfig(
            name: "redis", bind: Endpoint(host: "127.0.0.1", port: FreePort.next()), protocol: .tcp, backend: "redis")
        let backend = BackendConfig(
            name: "redis", balance: .first, connectTimeout: .milliseconds(500), retries: 1,
            healthCheck: HealthCheckConfig(
                type: .redisMaster, interval: interval, timeout: checkTimeout, rise: rise, fall: fall),
            onServerDown: .close, failback: failback,
            servers: [
                ServerConfig(name: "primary", address: Endpoint(host: "127.0.0.1", port: primary)),
                ServerConfig(name: "replica", address: Endpoint(host: "127.0.0.1", port: replica)),
            ])
        return TestConfig.front(listeners: [listener], backends: [backend], admin: true)
    }

    static func activeServer(_ front: RunningFront) -> String? {
        front.runner.proxy.routing.snapshot.backend(named: "redis")?.activeServer(at: .now())?.name
    }

    @Test(
        "writes go to the primary; after it dies and the replica is promoted they reach the replica in time",
        arguments: Shell.allCases)
    func failoverAndManualFailback(shell: Shell) async throws {
        let primary = try await RedisProcess.start()
        let replica = try await RedisProcess.start(replicaOf: primary.port)
        let revivedBox = RedisBox()
        do {
            try await failoverScenario(shell, primary: primary, replica: replica, revivedBox: revivedBox)
        } catch {
            await primary.stop()
            await replica.stop()
            await revivedBox.value?.stop()
            throw error
        }
        await primary.stop()
        await replica.stop()
        await revivedBox.value?.stop()
    }

    private func failoverScenario(
        _ shell: Shell, primary: RedisProcess, replica: RedisProcess, revivedBox: RedisBox
    ) async throws {
        let config = Self.config(primary: primary.port, replica: replica.port, failback: .manual)
        try await withFront(config.on(shell)) { front in
            let port = try front.port("redis")
            // The replica answers role:slave, so only the primary comes up.
            #expect(await Poll.until(timeout: .seconds(10)) { Self.activeServer(front) == "primary" })
            #expect(try await RedisProcess.command(port: port, ["SET", "k", "v1"]) == "OK")
            #expect(try await primary.command(["GET", "k"]) == "v1")

            // A session opened before the failure.
            let old = try await TestClient.connect(port: port)
            try await old.send("PING\r\n")
            #expect(try await old.read(count: 7, timeout: .seconds(2)) == Array("+PONG\r\n".utf8))

            let replicaChecks = {
                front.metric("brokerfront_health_checks_total", ["backend": "redis", "server": "replica"]) ?? 0
            }
            await primary.kill()
            _ = try await replica.command(["REPLICAOF", "NO", "ONE"])
            let promoted = ContinuousClock.now
            let checksAtPromotion = replicaChecks()
            // The fence keeps counting the killed primary for fall × interval after its last passing check,
            // and the promoted replica needs `rise` passing checks: writes reach it within fall + rise of its
            // checks (one more for a check already under way at the promotion, one for a check that ends
            // between the last write and the count). Counted in checks, not in
            // seconds, so a loaded machine that runs checks late cannot fail it, while a front that needs
            // more checks than that does.
            let budget = Self.fall + Self.rise + 2
            let reached = await Poll.until(timeout: .seconds(15), interval: .milliseconds(50)) {
                guard (try? await RedisProcess.command(port: port, ["SET", "k", "v2"])) == "OK" else { return false }
                return (try? await replica.command(["GET", "k"])) == "v2"
            }
            let checksTaken = replicaChecks() - checksAtPromotion
            let took = ContinuousClock.now - promoted
            print(
                "\(shell) redis failover: writes reached the promoted replica \(took) and \(checksTaken) of its checks after its promotion (budget \(budget) checks)"
            )
            #expect(reached)
            #expect(
                checksTaken <= Double(budget), "writes reached the promoted replica after \(checksTaken) of its checks")
            #expect(await old.waitForClose(timeout: .seconds(3)), "the session on the dead primary was closed")
            #expect(front.metric("brokerfront_failovers_total", ["backend": "redis"]) ?? 0 >= 1)

            // The old primary returns as a replica of the new master: traffic stays where it is.
            let checks = {
                front.metric("brokerfront_health_checks_total", ["backend": "redis", "server": "primary"]) ?? 0
            }
            revivedBox.value = try await RedisProcess.start(port: primary.port, replicaOf: replica.port)
            let revived = revivedBox.value
            let checksBefore = checks()
            // Four checks of the revived server (answering as a replica): the active server must not move back.
            #expect(await Poll.until(timeout: .seconds(5)) { checks() >= checksBefore + 4 }, "\(front.metricsText)")
            #expect(Self.activeServer(front) == "replica")
            #expect(try await RedisProcess.command(port: port, ["SET", "k", "v3"]) == "OK")
            #expect(try await replica.command(["GET", "k"]) == "v3")

            // Two masters at once (the old primary promoted too): no new session goes to it.
            _ = try await revived?.command(["REPLICAOF", "NO", "ONE"])
            let backend = front.runner.proxy.routing.snapshot.backend(named: "redis")
            #expect(
                await Poll.until(timeout: .seconds(10)) { backend?.server(named: "primary")?.displayState == "up" })
            for index in 0..<5 {
                #expect(try await RedisProcess.command(port: port, ["SET", "fenced", "\(index)"]) == "OK")
            }
            #expect(try await replica.command(["GET", "fenced"]) == "4")
            #expect(try await revived?.command(["GET", "fenced"]) == "")
            #expect(Self.activeServer(front) == "replica")

            // An operator's failback while both claim master is refused (409) and changes nothing.
            let admin = try #require(front.runner.adminPort)
            let answer = try await HTTPTestClient.request(
                method: "POST", port: admin, path: "/backends/redis/failback", body: "{}",
                headers: ["Content-Type": "application/json"])
            #expect(answer.status == 409, "\(answer.body)")
            #expect(answer.body.contains("master"), "\(answer.body)")
            #expect(Self.activeServer(front) == "replica")
            #expect(try await RedisProcess.command(port: port, ["SET", "back", "1"]) == "OK")
            #expect(try await replica.command(["GET", "back"]) == "1")
            #expect(try await revived?.command(["GET", "back"]) == "")

            // The replica steps down: the old primary is the only master and takes the sessions.
            _ = try await replica.command(["REPLICAOF", "127.0.0.1", "\(primary.port)"])
            #expect(await Poll.until(timeout: .seconds(10)) { Self.activeServer(front) == "primary" })
            #expect(try await RedisProcess.command(port: port, ["SET", "back", "2"]) == "OK")
            #expect(try await revived?.command(["GET", "back"]) == "2")
        }
    }

    @Test(
        "two masters and no active one: sessions are refused until exactly one claims master", arguments: Shell.allCases
    )
    func splitBrainAtStart(shell: Shell) async throws {
        let first = try await RedisProcess.start()
        let second = try await RedisProcess.start()
        do {
            try await splitBrainScenario(shell, first: first, second: second)
        } catch {
            await first.stop()
            await second.stop()
            throw error
        }
        await first.stop()
        await second.stop()
    }

    private func splitBrainScenario(_ shell: Shell, first: RedisProcess, second: RedisProcess) async throws {
        // A generous check timeout: under load a first check that times out would let the other
        // master be activated alone before the conflict is seen.
        let config = Self.config(primary: first.port, replica: second.port, failback: .auto, checkTimeout: .seconds(3))
        try await withFront(config.on(shell)) { front in
            let port = try front.port("redis")
            let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "redis"))
            #expect(await Poll.until(timeout: .seconds(10)) { backend.servers.allSatisfy { $0.displayState == "up" } })
            #expect(Self.activeServer(front) == nil)
            let refused = try await TestClient.connect(port: port)
            try? await refused.send("SET x 1\r\n")  // the front may already have closed it
            #expect(await refused.waitForClose(timeout: .seconds(2)))
            #expect(try await refused.buffered() == [], "a tcp listener refuses with a close, no bytes")
            #expect(
                await Poll.until(timeout: .seconds(2)) {
                    front.metric(
                        "brokerfront_connections_rejected_total", ["listener": "redis", "reason": "no_server"])
                        == 1
                }, "\(front.metricsText)")
            #expect(try await first.command(["GET", "x"]) == "")
            #expect(try await second.command(["GET", "x"]) == "")
            #expect(front.logs.all.contains { $0.message.contains("split brain") })

            // The second steps down: exactly one master remains and takes the sessions.
            _ = try await second.command(["REPLICAOF", "127.0.0.1", "\(first.port)"])
            // The replica's full sync forks the primary; on a loaded box its checks can lag, so the
            // bound is generous (interval × fall is 0.4 s).
            let states = { backend.servers.map { "\($0.name)=\($0.displayState)" }.joined(separator: " ") }
            #expect(
                await Poll.until(timeout: .seconds(10)) { Self.activeServer(front) == "primary" },
                "servers \(states()); front log:\n\(front.logs.controlLines)")
            #expect(try await RedisProcess.command(port: port, ["SET", "x", "2"]) == "OK")
            #expect(try await first.command(["GET", "x"]) == "2")
        }
    }
}

/// The revived primary, shared between the scenario and the cleanup.
private final class RedisBox: @unchecked Sendable {
    // Written and read by the one test task only.
    var value: RedisProcess?
}
