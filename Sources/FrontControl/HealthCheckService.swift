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
        await cancelWhenGracefulShutdown {
            // One generation of check tasks per routing snapshot: a reload cancels the old tasks
            // (within 250 ms; a result they were still waiting for is dropped) and starts tasks for
            // the new servers, so a changed check gives its first result within about a round.
            // Health state itself carries over inside the servers.
            while !Task.isCancelled {
                let snapshot = proxy.routing.snapshot
                await withDiscardingTaskGroup { tasks in
                    for backend in snapshot.backends {
                        guard let check = backend.config.healthCheck else { continue }
                        for server in backend.servers {
                            tasks.addTask {
                                await self.check(
                                    server, with: check, proxy: backend.config.sendProxyProtocol, while: snapshot)
                            }
                        }
                    }
                    while !Task.isCancelled && self.proxy.routing.snapshot === snapshot {
                        try? await Task.sleep(for: .milliseconds(250))
                    }
                    tasks.cancelAll()
                }
            }
        }
    }

    private func check(
        _ server: ServerRuntime, with check: HealthCheckConfig, proxy header: ProxyProtocolVersion,
        while snapshot: RoutingSnapshot
    ) async {
        while !Task.isCancelled && proxy.routing.snapshot === snapshot {
            if server.healthState.checksEnabled {
                let probed = await HealthProbe.run(check, server: server, sendProxyProtocol: header, group: group)
                if Task.isCancelled || proxy.routing.snapshot !== snapshot { return }
                guard let result = probed else {
                    // The front ran out of descriptors or ports: no result, the server's state stays.
                    logger.warning(
                        "check not run for lack of a local resource; server state unchanged",
                        metadata: ["backend": .string(server.backendName), "server": .string(server.name)])
                    try? await Task.sleep(for: check.interval)
                    continue
                }
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
