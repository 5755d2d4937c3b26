import FrontConfig
import FrontProxy
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs the data path as a Service: binds the listeners, waits for graceful shutdown (SIGTERM /
/// SIGINT), then stops accepting at once and moves the sessions off at each backend's `move_rate`
/// (all at the end of `drain_timeout` with `move_rate: 0`), closing what is left when it ends.
/// The same signal again during the drain closes the sessions at once (a second Ctrl-C).
public struct ProxyService: Service {
    public let proxy: FrontProxy
    let logger: Logger
    /// The shutdown signals; one of them arriving during the drain ends it.
    let hurrySignals: [UnixSignal]
    let onStarted: @Sendable () async -> Void

    public init(
        proxy: FrontProxy, logger: Logger, hurrySignals: [UnixSignal] = [],
        onStarted: @escaping @Sendable () async -> Void = {}
    ) {
        self.proxy = proxy
        self.logger = logger
        self.hurrySignals = hurrySignals
        self.onStarted = onStarted
    }

    public func run() async throws {
        try await proxy.start()
        await onStarted()
        // Sleeps until the group asks us to stop (a signal or a sibling service ending).
        try? await gracefulShutdown()
        SystemdNotifier.notify("STOPPING=1")
        await proxy.stopAccepting()
        let open = proxy.activeSessions
        let drain = proxy.configuration.drainTimeout
        logger.notice(
            "draining",
            metadata: ["sessions": .stringConvertible(open), "drain_timeout": .string(DurationParser.format(drain))])
        // Sessions move off at their backends' `move_rate` (MQTT 5 clients hear 0x8B), fast enough
        // to be gone before the drain ends; what is left then moves at once, and the rest is closed.
        proxy.moveSessionsForShutdown(within: drain)
        switch await drained(within: drain) {
        case .ended:
            break
        case .timedOut:
            logger.notice(
                "drain timeout reached, moving the sessions left",
                metadata: ["sessions": .stringConvertible(proxy.activeSessions)])
            await proxy.finishShutdown()
        case .hurried(let signal):
            logger.notice(
                "second shutdown signal, closing sessions now",
                metadata: ["signal": "\(signal)", "sessions": .stringConvertible(proxy.activeSessions)])
            await proxy.closeAllSessions(reason: .shutdown)
        }
        await proxy.stopTimers()
        logger.notice("stopped")
    }

    private enum DrainEnd: Sendable {
        case ended
        case timedOut
        case hurried(UnixSignal)
    }

    /// Waits for the sessions to end, up to `drain`, or for one of ``hurrySignals``.
    private func drained(within drain: Duration) async -> DrainEnd {
        let proxy = self.proxy
        let signals = hurrySignals
        return await withTaskGroup(of: DrainEnd?.self) { group in
            group.addTask { await proxy.waitForSessionsToEnd(timeout: drain) ? .ended : .timedOut }
            if !signals.isEmpty {
                group.addTask {
                    for await signal in await UnixSignalsSequence(trapping: signals) { return .hurried(signal) }
                    return nil  // cancelled: the drain ended first
                }
            }
            defer { group.cancelAll() }
            while let end = await group.next() {
                if let end { return end }
            }
            return .timedOut
        }
    }
}
