import FrontConfig
import FrontCore
import FrontTesting
import Testing

/// The split-brain fence against passive evidence: a refused dial to the current master is not a
/// reason to hand its traffic to another server that also claims master.
@Suite("Redis fence and passive evidence")
struct RedisFenceTests {
    /// `stale` first in the list, `current` second; checks every second, down after five failures
    /// (a fence window of 5 s: room for a restart on a loaded machine).
    static func config(stale: Int, current: Int) -> FrontConfiguration {
        let listener = ListenerConfig(
            name: "redis", bind: Endpoint(host: "127.0.0.1", port: FreePort.next()), protocol: .tcp, backend: "redis")
        let backend = BackendConfig(
            name: "redis", balance: .first, connectTimeout: .milliseconds(500), retries: 1,
            healthCheck: HealthCheckConfig(
                type: .redisMaster, interval: .seconds(1), timeout: .milliseconds(500), rise: 2, fall: 5),
            onServerDown: .close, failback: .manual,
            servers: [
                ServerConfig(name: "stale", address: Endpoint(host: "127.0.0.1", port: stale)),
                ServerConfig(name: "current", address: Endpoint(host: "127.0.0.1", port: current)),
            ])
        return TestConfig.front(listeners: [listener], backends: [backend], admin: true)
    }

    @Test(
        "the current master restarts while a stale one claims master too: the refused dial takes no traffic to the stale master; the current one gets it back"
    )
    func refusedDialDoesNotHandOverToStaleMaster() async throws {
        let current = try await RedisProcess.start()
        let stale = try await RedisProcess.start(replicaOf: current.port)
        let restarted = RestartedRedis()
        do {
            try await scenario(stale: stale, current: current, restarted: restarted)
        } catch {
            await stale.stop()
            await current.stop()
            await restarted.value?.stop()
            throw error
        }
        await stale.stop()
        await current.stop()
        await restarted.value?.stop()
    }

    private func scenario(stale: RedisProcess, current: RedisProcess, restarted: RestartedRedis) async throws {
        try await withFront(Self.config(stale: stale.port, current: current.port)) { front in
            let port = try front.port("redis")
            let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "redis"))
            let active = { backend.activeServer(at: .now())?.name }
            #expect(await Poll.until(timeout: .seconds(10)) { active() == "current" })

            // The stale server claims master too (the old primary back with old data): traffic stays.
            _ = try await stale.command(["REPLICAOF", "NO", "ONE"])
            #expect(await Poll.until(timeout: .seconds(10)) { backend.server(named: "stale")?.displayState == "up" })
            #expect(active() == "current")

            // The current master goes away for a moment; a client's dial is refused.
            await current.kill()
            let during = try? await RedisProcess.command(port: port, ["SET", "k", "during"])
            #expect(during != "OK", "a write was served while the current master was away: \(during ?? "-")")
            #expect(try await stale.command(["GET", "k"]) == "")

            // It is back: once its checks pass, it takes the traffic again.
            restarted.value = try await RedisProcess.start(port: current.port)
            let back = restarted.value
            #expect(
                await Poll.until(timeout: .seconds(10), interval: .milliseconds(100)) {
                    (try? await RedisProcess.command(port: port, ["SET", "k", "after"])) == "OK"
                })
            #expect(try await back?.command(["GET", "k"]) == "after")
            #expect(try await stale.command(["GET", "k"]) == "")
            #expect(active() == "current")
            #expect(front.metric("brokerfront_failovers_total", ["backend": "redis"]) == 0)
            #expect(!front.logs.all.contains { $0.message == "failover" }, "\(front.logs.controlLines)")
        }
    }
}

/// The current master started again on its port, shared between the scenario and the cleanup.
private final class RestartedRedis: @unchecked Sendable {
    // Written and read by the one test task only.
    var value: RedisProcess?
}
