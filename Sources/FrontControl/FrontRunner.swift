import FrontConfig
import FrontProxy
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import UnixSignals

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// One whole front: data path, admin plane and metrics registry, run as one ServiceGroup.
///
/// Services are listed in dependency order (proxy, then admin) and stopped in reverse. The CLI
/// runs it with SIGTERM/SIGINT as graceful-shutdown signals; tests start it on free ports and call
/// ``shutdown()``. Thread-safe.
public final class FrontRunner: Sendable {
    public let proxy: FrontProxy
    public let registry: PrometheusCollectorRegistry
    /// Reloads the configuration (SIGHUP, `POST /reload`, tests).
    public let reloader: ConfigReloader
    /// The admin plane (runs when the configuration has an `admin:` section; a reload moves it).
    public let adminPlane: AdminPlane
    /// The last 15 minutes of totals behind `GET /status/history`.
    public let history: StatusHistory
    private let group: ServiceGroup
    private let ready = ReadyState()
    private let hasAdmin: Bool

    /// A front for `configuration`; `configPath` is the file reloads re-read (nil: reloads only by value);
    /// `signals` become graceful shutdown (the CLI passes SIGTERM and SIGINT, and SIGHUP reloads
    /// when `reloadOnHangup` is set); `logSettings`, when the caller bootstrapped logging with them,
    /// let a reload change the log level and format in place.
    public init(
        configuration: FrontConfiguration,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        signals: [UnixSignal] = [],
        configPath: String? = nil,
        reloadOnHangup: Bool = false,
        logSettings: LogSettings? = nil
    ) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        let proxy = FrontProxy(
            configuration: configuration, group: eventLoopGroup, logger: logger, metricsFactory: factory)
        self.proxy = proxy
        let adminToken = AdminToken(configuration.admin?.token, hosts: configuration.admin?.hosts ?? [])
        let reloader = ConfigReloader(
            path: configPath, proxy: proxy, logger: logger, factory: factory, logSettings: logSettings,
            adminToken: adminToken)
        // Kept here, not in the admin plane, so the charts keep their 15 minutes when a reload moves it.
        let history = StatusHistory { MetricTotals.read(proxy: proxy, registry: registry) }
        self.history = history
        let adminPlane = AdminPlane(initial: configuration.admin, logger: logger) { admin, onRunning in
            AdminServer.make(
                config: admin, token: adminToken, proxy: proxy, registry: registry, reloader: reloader,
                group: eventLoopGroup, logger: logger, history: history, onRunning: onRunning)
        }
        reloader.manage(adminPlane)
        self.adminPlane = adminPlane
        self.reloader = reloader
        let ready = self.ready
        // A graceful shutdown stops the services last to first, each after the one before it ended:
        // the data path goes first, so its listeners close at once and its sessions drain while
        // health checks, SIGHUP and the admin plane (`/status`, `/sessions`) still serve.
        var services: [any Service] = [
            history, HealthCheckService(proxy: proxy, group: eventLoopGroup, logger: logger),
        ]
        if reloadOnHangup { services.append(ReloadSignalService(reloader: reloader)) }
        if let configPath {
            services.append(ConfigWatchService(path: configPath, reloader: reloader, proxy: proxy, logger: logger))
        }
        services.append(adminPlane)
        services.append(
            ProxyService(proxy: proxy, logger: logger, hurrySignals: signals) {
                ready.state.withLockedValue { $0 = true }
                // `Type=notify`: systemctl start returns once the listeners are bound.
                SystemdNotifier.notify("READY=1")
            })
        self.hasAdmin = configuration.admin != nil
        self.group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: signals, logger: logger))
    }

    /// Runs until shutdown; returns after the drain.
    public func run() async throws {
        try await group.run()
    }

    /// Asks every service to stop gracefully (like SIGTERM).
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Waits until the listeners are bound (and the admin plane serves, when configured), up to `timeout`.
    /// Returns false on timeout.
    public func waitUntilReady(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let proxyReady = ready.state.withLockedValue { $0 }
            if proxyReady && (!hasAdmin || adminPlane.port != nil) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// The admin plane's bound port while it runs.
    public var adminPort: Int? { adminPlane.port }
}

/// Readiness of the data path, set by its service as it comes up; a class so closures can share it.
private final class ReadyState: Sendable {
    let state = NIOLockedValueBox<Bool>(false)
}
