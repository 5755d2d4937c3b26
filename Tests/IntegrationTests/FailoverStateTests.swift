import FrontConfig
import FrontControl
import FrontCore
import FrontTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Active-passive failover state against what happens around it: which server start-up picks, and
/// what a reload keeps. Two mosquitto brokers, `b1` the primary and `b2` its backup, `balance: first`,
/// `failback: manual`, `mqtt` checks. Start-up and check timing are the health checker's alone; the
/// reload scenario, which routes sessions across the state changes, runs on both shells.
@Suite("Failover state across start-up and reloads")
struct FailoverStateTests {
    static func config(primary: Int, backup: Int, checkTimeout: Duration = .seconds(1)) -> FrontConfiguration {
        TestConfig.mqttFront(ports: [primary, backup], balance: .first, admin: true) { _ in
        } backend: { backend in
            backend.retries = 1
            backend.failback = .manual
            backend.healthCheck = HealthCheckConfig(
                type: .mqtt, interval: .milliseconds(200), timeout: checkTimeout, rise: 1, fall: 2)
            backend.servers[1].backup = true
        }
    }

    /// `active_server` of backend `brokers` in `GET /status`.
    static func statusActive(_ front: RunningFront) async throws -> String? {
        let admin = try #require(front.runner.adminPort)
        let answer = try await HTTPTestClient.get(port: admin, path: "/status")
        let status = try JSONValue.parse(answer.body)
        return status["backends"]?[0]?["active_server"]?.string
    }

    /// The broker (index in `brokers`) whose log shows client `id` connecting, after one CONNECT through the front.
    static func landing(_ id: String, port: Int, brokers: [MosquittoProcess]) async throws -> (code: UInt8, on: Int?) {
        let (client, code) = try await MQTTTestClient.connect(port: port, clientID: id)
        await client.disconnect()
        var on: Int?
        _ = await Poll.until(timeout: .seconds(3)) {
            on = brokers.firstIndex { $0.clientsConnected().contains { $0.clientID == id } }
            return on != nil || code != 0
        }
        return (code, on)
    }

    @Test(
        "start-up waits for every server's first check: the backup answering first does not become active, the primary does"
    )
    func startUpTakesPriority() async throws {
        try await withMosquittos(2) { brokers in
            // The primary's first check hangs: mosquitto is stopped, while the kernel still completes
            // the handshake; the backup's first check answers at once.
            let stopped = brokers[0].pid
            kill(stopped, SIGSTOP)
            defer { kill(stopped, SIGCONT) }
            let config = Self.config(primary: brokers[0].port, backup: brokers[1].port, checkTimeout: .seconds(5))
            try await withFront(config) { front in
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                #expect(await Poll.until(timeout: .seconds(10)) { backend.server(named: "b2")?.displayState == "up" })
                kill(stopped, SIGCONT)
                #expect(await Poll.until(timeout: .seconds(10)) { backend.server(named: "b1")?.displayState == "up" })
                #expect(try await Self.statusActive(front) == "b1")
                let landed = try await Self.landing("start-1", port: try front.port(), brokers: brokers)
                #expect(landed.code == 0 && landed.on == 0, "\(landed)")
                #expect(!front.logs.all.contains { $0.message == "active server" && $0.metadata["server"] == "b2" })
            }
        }
    }

    @Test(
        "a reload that shortens the check interval gets the new check's results within a round, not after the old interval"
    )
    func changedCheckAnswersSoon() async throws {
        try await withMosquittos(2) { brokers in
            // A check timeout a loaded machine does not reach: a timed-out check here would be a failover.
            var config = Self.config(primary: brokers[0].port, backup: brokers[1].port, checkTimeout: .seconds(5))
            config.backends[0].healthCheck?.interval = .seconds(30)
            try await withFront(config) { front in
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                #expect(await Poll.until(timeout: .seconds(10)) { backend.server(named: "b1")?.displayState == "up" })
                let before = front.metric("brokerfront_health_checks_total", ["server": "b1"]) ?? 0
                var faster = config
                faster.backends[0].healthCheck?.interval = .milliseconds(200)
                #expect(TLSRotationTests.failure(of: await front.runner.reloader.reload(with: faster)) == nil)
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_health_checks_total", ["server": "b1"]) ?? 0 >= before + 2
                    })
                #expect(try await Self.statusActive(front) == "b1")
            }
        }
    }

    @Test(
        "a reload that changes health_check or the server list keeps each server's state and the manual pin on the backup; removing the active server is a failover, logged and counted",
        arguments: Shell.allCases)
    func reloadKeepsFailoverState(shell: Shell) async throws {
        try await withMosquittos(2) { brokers in
            let config = Self.config(primary: brokers[0].port, backup: brokers[1].port).on(shell)
            let revived = RevivedBroker()
            do {
                try await withFront(config) { front in
                    try await reloadScenario(front, config: config, brokers: brokers, revived: revived)
                }
            } catch {
                await revived.value?.stop()
                throw error
            }
            await revived.value?.stop()
        }
    }

    private func reloadScenario(
        _ front: RunningFront, config: FrontConfiguration, brokers: [MosquittoProcess], revived: RevivedBroker
    ) async throws {
        let port = try front.port()
        let snapshot = { front.runner.proxy.routing.snapshot.backend(named: "brokers") }
        #expect(await Poll.until(timeout: .seconds(10)) { (try? await Self.statusActive(front)) == "b1" })

        // The primary dies: the backup takes over; the primary returns and, failback manual, waits.
        await brokers[0].kill()
        #expect(await Poll.until(timeout: .seconds(5)) { (try? await Self.statusActive(front)) == "b2" })
        revived.value = try await MosquittoProcess.start(port: brokers[0].port)
        let fleet = [revived.value ?? brokers[0], brokers[1]]
        #expect(await Poll.until(timeout: .seconds(5)) { snapshot()?.server(named: "b1")?.displayState == "up" })
        #expect(try await Self.statusActive(front) == "b2")

        // A changed check: both keep their state, the next client is served by the backup at once.
        var slower = config
        slower.backends[0].healthCheck?.timeout = .seconds(2)
        let checkChange = await front.runner.reloader.reload(with: slower)
        #expect(TLSRotationTests.failure(of: checkChange) == nil)
        let afterCheckChange = try await Self.landing("after-check-change", port: port, brokers: fleet)
        #expect(afterCheckChange.code == 0 && afterCheckChange.on == 1, "\(afterCheckChange)")
        let checksBefore = front.metric("brokerfront_health_checks_total", ["server": "b1"]) ?? 0
        #expect(
            await Poll.until(timeout: .seconds(5)) {
                front.metric("brokerfront_health_checks_total", ["server": "b1"]) ?? 0 >= checksBefore + 3
            })
        #expect(try await Self.statusActive(front) == "b2")
        #expect(snapshot()?.server(named: "b1")?.displayState == "up")

        // A changed server list (a third server, not listening): the pin stays where it was.
        var grown = slower
        grown.backends[0].servers.append(
            ServerConfig(name: "b3", address: Endpoint(host: "127.0.0.1", port: FreePort.next()), backup: true))
        #expect(TLSRotationTests.failure(of: await front.runner.reloader.reload(with: grown)) == nil)
        #expect(try await Self.statusActive(front) == "b2")
        let afterListChange = try await Self.landing("after-list-change", port: port, brokers: fleet)
        #expect(afterListChange.code == 0 && afterListChange.on == 1, "\(afterListChange)")
        #expect(!front.logs.all.contains { $0.message == "failback" })
        #expect(front.metric("brokerfront_failovers_total", ["backend": "brokers"]) == 1)

        // The active server removed by a reload: a failover to the primary, logged and counted.
        var shrunk = grown
        shrunk.backends[0].servers.removeAll { $0.name == "b2" }
        #expect(TLSRotationTests.failure(of: await front.runner.reloader.reload(with: shrunk)) == nil)
        #expect(try await Self.statusActive(front) == "b1")
        #expect(front.metric("brokerfront_failovers_total", ["backend": "brokers"]) == 2)
        #expect(front.logs.all.contains { $0.message == "failover" && $0.metadata["to"] == "b1" })
        let afterRemoval = try await Self.landing("after-removal", port: port, brokers: fleet)
        #expect(afterRemoval.code == 0 && afterRemoval.on == 0, "\(afterRemoval)")
    }
}

/// The primary started again on its port, shared between the scenario and the cleanup.
private final class RevivedBroker: @unchecked Sendable {
    // Written and read by the one test task only.
    var value: MosquittoProcess?
}
