import FrontConfig
import FrontProxy
import Logging
import ServiceLifecycle

/// Runs the data path as a Service: binds the listeners, waits for graceful shutdown (SIGTERM /
/// SIGINT), then stops accepting at once, lets sessions run up to `drain_timeout`, and closes the rest.
public struct ProxyService: Service {
    public let proxy: FrontProxy
    let logger: Logger
    let onStarted: @Sendable () async -> Void

    public init(proxy: FrontProxy, logger: Logger, onStarted: @escaping @Sendable () async -> Void = {}) {
        self.proxy = proxy
        self.logger = logger
        self.onStarted = onStarted
    }

    public func run() async throws {
        try await proxy.start()
        await onStarted()
        // Sleeps until the group asks us to stop (a signal or a sibling service ending).
        try? await gracefulShutdown()
        await proxy.stopAccepting()
        let open = proxy.activeSessions
        let drain = proxy.configuration.drainTimeout
        logger.notice(
            "draining",
            metadata: ["sessions": .stringConvertible(open), "drain_timeout": .string(DurationParser.format(drain))])
        if !(await proxy.waitForSessionsToEnd(timeout: drain)) {
            logger.notice(
                "drain timeout reached, closing sessions",
                metadata: ["sessions": .stringConvertible(proxy.activeSessions)])
            await proxy.closeAllSessions(reason: .shutdown)
        }
        await proxy.stopTimers()
        logger.notice("stopped")
    }
}
