import FrontConfig
import Testing

@testable import FrontCore

/// Failover decisions of a whole backend: servers' health, the policy, and reloads, driven by hand.
@Suite("Backend failover state")
struct BackendFailoverTests {
    static let pass = CheckResult(ok: true, duration: .milliseconds(1), message: "ok")
    static let fail = CheckResult(ok: false, duration: .milliseconds(1), message: "refused")
    static let master = CheckResult(ok: true, duration: .milliseconds(1), message: "role:master")

    /// `b1` (active) and `b2` (backup), `balance: first`, `failback: manual`, an `mqtt` check.
    static func pinned(
        check: HealthCheckConfig = HealthCheckConfig(type: .mqtt, interval: .seconds(1), rise: 1, fall: 1)
    )
        -> BackendConfig
    {
        BackendConfig(
            name: "brokers", balance: .first, healthCheck: check, failback: .manual,
            servers: [
                ServerConfig(name: "b1", address: Endpoint(host: "127.0.0.1", port: 1)),
                ServerConfig(name: "b2", address: Endpoint(host: "127.0.0.1", port: 2), backup: true),
            ])
    }

    /// A pinned backend failed over to `b2`, with `b1` back up and waiting for an operator.
    static func failedOverToBackup() -> BackendRuntime {
        let backend = BackendRuntime(config: pinned())
        for server in backend.servers { _ = server.checkCompleted(pass) }
        _ = backend.reevaluate()
        _ = backend.servers[0].checkCompleted(fail)
        _ = backend.reevaluate()
        _ = backend.servers[0].checkCompleted(pass)
        _ = backend.reevaluate()
        return backend
    }

    @Test(
        "start-up: the backup's first check answering first does not make it active; the primary's does, once it answers"
    )
    func startUpWaitsForEveryFirstCheck() {
        let backend = BackendRuntime(config: Self.pinned())
        _ = backend.servers[1].checkCompleted(Self.pass)
        #expect(backend.reevaluate() == [])
        #expect(backend.choose(for: RoutingKey(sourceIP: "x"), at: .now()) == nil)
        _ = backend.servers[0].checkCompleted(Self.pass)
        #expect(backend.reevaluate() == [.activated(to: 0)])
        #expect(backend.activeServer(at: .now())?.name == "b1")
    }

    @Test("a reload that changes health_check keeps each server's state and the manual pin on the backup")
    func reloadWithChangedCheck() {
        let old = Self.failedOverToBackup()
        #expect(old.activeServer(at: .now())?.name == "b2")
        var slower = Self.pinned()
        slower.healthCheck?.timeout = .seconds(3)
        let reloaded = BackendRuntime(config: slower, previous: old)
        #expect(reloaded.servers.map(\.displayState) == ["up", "up"])
        #expect(reloaded.reevaluate() == [])
        #expect(reloaded.activeServer(at: .now())?.name == "b2")
        // Until the changed check's first result the last known state stands.
        _ = reloaded.servers[1].checkCompleted(Self.pass)
        _ = reloaded.servers[0].checkCompleted(Self.pass)
        #expect(reloaded.reevaluate() == [])
        #expect(reloaded.activeServer(at: .now())?.name == "b2")
    }

    @Test(
        "after a reload that changed the check, a dial outcome of a session routed before it counts for the server as it is now"
    )
    func evidenceFromBeforeTheReload() {
        let old = Self.failedOverToBackup()
        var slower = Self.pinned()
        slower.healthCheck?.timeout = .seconds(3)
        let reloaded = BackendRuntime(config: slower, previous: old)
        // A session that chose b2 before the reload holds the old runtime; its dial is refused.
        #expect(old.servers[1].dialFailed(at: .now()) == .wentDown)
        #expect(reloaded.servers[1].displayState == "down")
        #expect(old.servers[1].latest === reloaded.servers[1])
    }

    @Test("a reload that changes the server list keeps the active server by name; removing it is a failover")
    func reloadWithChangedServerList() {
        let old = Self.failedOverToBackup()
        var grown = Self.pinned()
        grown.servers.insert(ServerConfig(name: "b0", address: Endpoint(host: "127.0.0.1", port: 3)), at: 0)
        let reloaded = BackendRuntime(config: grown, previous: old)
        #expect(reloaded.reevaluate() == [])
        #expect(reloaded.activeServer(at: .now())?.name == "b2")

        var shrunk = grown
        shrunk.servers.removeAll { $0.name == "b2" }
        let without = BackendRuntime(config: shrunk, previous: reloaded)
        #expect(without.reevaluate() == [.failover(from: nil, to: 1)])
        #expect(without.activeServer(at: .now())?.name == "b1")
    }

    @Test("fence: a refused dial to the current master while another claims master hands it no traffic")
    func passiveDownHoldsTheFence() {
        let check = HealthCheckConfig(type: .redisMaster, interval: .seconds(10), rise: 2, fall: 3)
        let backend = BackendRuntime(
            config: BackendConfig(
                name: "redis", balance: .first, healthCheck: check, failback: .manual,
                servers: [
                    ServerConfig(name: "stale", address: Endpoint(host: "127.0.0.1", port: 1)),
                    ServerConfig(name: "current", address: Endpoint(host: "127.0.0.1", port: 2)),
                ]))
        _ = backend.servers[0].checkCompleted(Self.fail)
        _ = backend.servers[1].checkCompleted(Self.master)
        #expect(backend.reevaluate() == [.activated(to: 1)])
        // The stale one claims master too: traffic stays.
        _ = backend.servers[0].checkCompleted(Self.master)
        _ = backend.servers[0].checkCompleted(Self.master)
        #expect(backend.reevaluate() == [.failbackHeld(current: 1, waiting: 0)])
        // One refused dial: the current master is down on passive evidence only.
        #expect(backend.servers[1].dialFailed(at: .now()) == .wentDown)
        #expect(backend.reevaluate() == [])
        #expect(backend.choose(for: RoutingKey(sourceIP: "x"), at: .now()) == nil)
        #expect(backend.activeServer(at: .now()) == nil)
    }
}
