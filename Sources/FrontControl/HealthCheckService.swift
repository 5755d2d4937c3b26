import FrontConfig
import FrontCore
import FrontProxy
import Logging
import NIOCore
import ServiceLifecycle

/// Runs every configured active health check, one task per checked server, each every `interval`
/// with `timeout`; results go to ``ServerEvents`` (rise/fall, flips, failover). Checks dial on
/// their own and never touch the data path's event-loop work beyond their own sockets.
/// Stops at graceful shutdown.
public struct HealthCheckService: Service {
    let proxy: FrontProxy
    let group: any EventLoopGroup
    let logger: Logger

    public init(proxy: FrontProxy, group: any EventLoopGroup, logger: Logger) {
        self.proxy = proxy
        self.group = group
        self.logger = logger
    }

    public func run() async throws {
        let snapshot = proxy.routing.snapshot
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { tasks in
                for backend in snapshot.backends {
                    guard let check = backend.config.healthCheck else { continue }
                    for server in backend.servers {
                        tasks.addTask { await self.checkForever(server, check: check) }
                    }
                }
                tasks.addTask {
                    // Keeps the service alive when nothing is checked, until shutdown.
                    try? await Task.sleep(for: .seconds(1_000_000_000))
                }
            }
        }
    }

    private func checkForever(_ server: ServerRuntime, check: HealthCheckConfig) async {
        while !Task.isCancelled {
            if server.healthState.checksEnabled {
                let result = await HealthProbe.run(check, server: server, group: group)
                if Task.isCancelled { return }
                logger.trace(
                    "check",
                    metadata: [
                        "server": .string(server.name), "ok": "\(result.ok)", "message": .string(result.message),
                    ])
                proxy.events.checkCompleted(server, result, checkType: check.type.rawValue)
            }
            try? await Task.sleep(for: check.interval)
        }
    }
}
