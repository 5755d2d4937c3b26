import CoreMetrics
import FrontConfig
import FrontProxy
import Logging
import ServiceLifecycle
import UnixSignals

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The outcome of one reload, as `POST /reload` reports it.
public enum ReloadResult: Sendable {
    /// The new configuration is in force.
    case applied(ReloadSummary)
    /// The file is invalid; the running configuration is untouched. One `FILE:LINE:COL: PATH: message` each.
    case invalid([String])
    /// Valid, but applying failed (e.g. a new listener could not bind); the old routing stays.
    case failed(String)
}

/// Reloads the configuration file (SIGHUP, `POST /reload`): validate, then swap the data path's
/// snapshot and listeners; an invalid file changes nothing. Counts
/// `brokerfront_reloads_total{result}`. Reloads run one at a time. Thread-safe.
public final class ConfigReloader: Sendable {
    let path: String?
    let proxy: FrontProxy
    let logger: Logger
    /// The process's log settings, changed in place by a reload; nil when the front does not own
    /// the logging system (in-process fronts in tests), and then `log:` applies at the next start.
    let logSettings: LogSettings?
    /// The admin plane's token, replaced by a reload; nil when the front has no admin plane to manage.
    let adminToken: AdminToken?
    /// The admin plane a reload moves, starts or stops (``manage(_:)``); nil as for `adminToken`.
    /// Weak: the plane's server holds this reloader (`POST /reload`), and its owner, the runner,
    /// holds the plane; a strong reference here kept every stopped front alive.
    private let adminPlane = NIOLockedValueBox(WeakAdminPlane())
    private let ok: Counter
    private let error: Counter
    private let serial = NIOLockedValueBox<Bool>(false)

    public init(
        path: String?, proxy: FrontProxy, logger: Logger, factory: any MetricsFactory, logSettings: LogSettings? = nil,
        adminToken: AdminToken? = nil
    ) {
        self.path = path
        self.proxy = proxy
        self.logger = logger
        self.logSettings = logSettings
        self.adminToken = adminToken
        self.ok = Counter(label: "brokerfront_reloads_total", dimensions: [("result", "ok")], factory: factory)
        self.error = Counter(label: "brokerfront_reloads_total", dimensions: [("result", "error")], factory: factory)
    }

    /// Lets reloads move, start and stop `plane` (made after the reloader: its `POST /reload` needs it).
    func manage(_ plane: AdminPlane) {
        adminPlane.withLockedValue { $0.plane = plane }
    }

    /// Re-reads the file the front was started with and applies it.
    public func reload() async -> ReloadResult {
        guard let path else {
            return finish(.invalid(["no configuration file to reload (the front was started from a value)"]))
        }
        do {
            return await reload(with: try ConfigLoader.load(contentsOf: path))
        } catch {
            return finish(.invalid(error.issues.map { $0.formatted(file: error.file) }))
        }
    }

    /// Applies an already validated configuration (tests, and `reload()` after loading).
    public func reload(with configuration: FrontConfiguration) async -> ReloadResult {
        while !serial.withLockedValue({ busy in
            if busy { return false }
            busy = true
            return true
        }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        defer { serial.withLockedValue { $0 = false } }
        let before = proxy.configuration
        do {
            let summary = try await proxy.apply(configuration)
            if before.log != configuration.log, let logSettings {
                logSettings.apply(configuration.log)
                logger.notice(
                    "log settings applied",
                    metadata: [
                        "level": .string(configuration.log.level.rawValue),
                        "format": .string(configuration.log.format.rawValue),
                    ])
            } else if before.log != configuration.log {
                logger.notice("log settings changed: they apply at the next start")
            }
            applyAdmin(from: before.admin, to: configuration.admin)
            if before.relayThreads != configuration.relayThreads || before.relaySlice != configuration.relaySlice
                || before.relaySpread != configuration.relaySpread || before.relayAssist != configuration.relayAssist
            {
                logger.notice(
                    "relay_threads, relay_slice, relay_spread or relay_assist changed: they apply at the next start")
            }
            return finish(.applied(summary))
        } catch {
            return finish(.failed("\(error)"))
        }
    }

    /// `admin:` applies at once: a new token to the next request, a new bind address moves the plane
    /// (it keeps serving where it was if the new address cannot be bound), an added section starts
    /// it, a removed one stops it. The plane is asked whenever its address differs from the file's,
    /// so a reload retries a move that failed before.
    private func applyAdmin(from old: AdminConfig?, to new: AdminConfig?) {
        guard let adminToken, let adminPlane = adminPlane.withLockedValue({ $0.plane }) else {
            if old != new { logger.notice("admin settings changed: they apply at the next start") }
            return
        }
        if let new, new.token != adminToken.current || new.hosts != adminToken.hosts {
            let tokenChanged = new.token != adminToken.current
            adminToken.replace(with: new.token, hosts: new.hosts)
            if tokenChanged {
                logger.notice(
                    "admin token applied", metadata: ["token_set": .string(new.token == nil ? "false" : "true")])
            }
        }
        if let warning = new?.exposureWarning, new != old { logger.warning("\(warning)") }
        if new?.bind != adminPlane.bind { adminPlane.request(new) }
    }

    private func finish(_ result: ReloadResult) -> ReloadResult {
        switch result {
        case .applied(let summary):
            ok.increment()
            logger.notice(
                "configuration reloaded",
                metadata: [
                    "listeners_added": .string(summary.listenersAdded.joined(separator: ",")),
                    "listeners_removed": .string(summary.listenersRemoved.joined(separator: ",")),
                    "listeners_rebound": .string(summary.listenersRebound.joined(separator: ",")),
                    "servers_removed": .string(summary.serversRemoved.joined(separator: ",")),
                ])
        case .invalid(let problems):
            error.increment()
            logger.error("reload refused: invalid configuration, keeping the running one")
            for problem in problems { logger.error("\(problem)") }
        case .failed(let reason):
            error.increment()
            logger.error("reload failed, keeping the running configuration", metadata: ["error": .string(reason)])
        }
        return result
    }
}

/// Turns SIGHUP into reloads until graceful shutdown.
public struct ReloadSignalService: Service {
    let reloader: ConfigReloader

    public init(reloader: ConfigReloader) {
        self.reloader = reloader
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                _ = await reloader.reload()
            }
        }
    }
}

/// A weak reference to the admin plane a reloader manages.
private struct WeakAdminPlane {
    weak var plane: AdminPlane?
}
