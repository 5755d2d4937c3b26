import FrontConfig
import Logging
import ServiceLifecycle

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The admin plane as one service that a reload can move, start or stop (`admin.bind`, `admin:` added
/// or removed). Each address runs the HTTP application in a small ServiceGroup of its own. A move
/// binds the new address before the old one is let go; only for the same port on another host
/// address (which cannot listen beside the old one) is the old one let go first, and started again
/// should the new one still fail. A plane that cannot move keeps serving where it was, and says so.
/// Thread-safe.
public final class AdminPlane: Service, Sendable {
    /// Makes the HTTP application for `config`; it calls `onRunning` with its port once it serves.
    public typealias MakeApplication =
        @Sendable (_ config: AdminConfig, _ onRunning: @escaping @Sendable (Int) async -> Void) -> any Service

    private let initial: AdminConfig?
    private let make: MakeApplication
    private let logger: Logger
    private let requests: AsyncStream<AdminConfig?>
    private let continuation: AsyncStream<AdminConfig?>.Continuation
    private let serving = NIOLockedValueBox<(bind: Endpoint, port: Int)?>(nil)

    /// A plane that starts at `initial.bind` (none when nil).
    public init(initial: AdminConfig?, logger: Logger, make: @escaping MakeApplication) {
        self.initial = initial
        self.make = make
        self.logger = logger
        (requests, continuation) = AsyncStream.makeStream(of: AdminConfig?.self)
    }

    /// The port the plane serves on now; nil while none runs.
    public var port: Int? { serving.withLockedValue { $0?.port } }

    /// The configured address the plane serves on now; nil while none runs.
    public var bind: Endpoint? { serving.withLockedValue { $0?.bind } }

    /// Asks for the plane at `config.bind`, or for no plane (nil). Returns at once; the plane logs
    /// the outcome. The token is not its business (``AdminToken``).
    public func request(_ config: AdminConfig?) {
        continuation.yield(config)
    }

    /// Starts the plane (a first bind that fails ends the front, as a listener's does), then applies
    /// requests until graceful shutdown, which the running application receives like any service.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var current: Generation?
            if let initial {
                current = try await start(initial, in: &tasks).get()
                logger.notice("admin plane serving", metadata: ["bind": "\(initial.bind)"])
            }
            for await target in requests.cancelOnGracefulShutdown() {
                current = await apply(target, replacing: current, in: &tasks)
            }
            if let current { await stop(current) }
            try await tasks.waitForAll()
        }
        continuation.finish()
    }

    /// One request: the plane that runs afterwards.
    private func apply(
        _ target: AdminConfig?, replacing current: Generation?, in tasks: inout ThrowingTaskGroup<Void, any Error>
    ) async -> Generation? {
        // An application that ended on its own is no plane: the same address starts it again.
        let current = current.flatMap { generation in generation.finished.withLockedValue { $0 } ? nil : generation }
        guard let target else {
            guard let current else { return nil }
            await stop(current)
            logger.notice("admin plane stopped: the admin section was removed", metadata: ["bind": "\(current.bind)"])
            return nil
        }
        guard let current else {
            switch await start(target, in: &tasks) {
            case .success(let started):
                logger.notice("admin plane serving", metadata: ["bind": "\(target.bind)"])
                return started
            case .failure(let error):
                logger.error(
                    "admin plane not started", metadata: ["bind": "\(target.bind)", "error": "\(error)"])
                return nil
            }
        }
        if target.bind == current.bind { return current }
        let moved = ["from": Logger.MetadataValue.string("\(current.bind)"), "to": .string("\(target.bind)")]
        // Make before break: the old plane answers until the new one serves.
        let first = await start(target, in: &tasks)
        if case .success(let next) = first {
            await stop(current)
            logger.notice("admin plane moved", metadata: moved)
            return next
        }
        guard target.bind.port == current.bind.port, target.bind.port != 0 else {
            var metadata = moved
            if case .failure(let error) = first { metadata["error"] = .string("\(error)") }
            logger.error("admin plane could not move; it serves where it was", metadata: metadata)
            return current
        }
        // The same port on another address (127.0.0.1:P to 0.0.0.0:P) cannot listen beside the old
        // plane: break before make, and serve where it was again if the new address still fails.
        await stop(current)
        switch await start(target, in: &tasks) {
        case .success(let next):
            logger.notice("admin plane moved", metadata: moved)
            return next
        case .failure(let error):
            var metadata = moved
            metadata["error"] = .string("\(error)")
            let restarted = try? await start(current.config, in: &tasks).get()
            logger.error(
                restarted == nil
                    ? "admin plane could not move, nor serve again where it was: no admin plane until a reload"
                    : "admin plane could not move; it serves where it was",
                metadata: metadata)
            return restarted
        }
    }

    /// One application at one address.
    private struct Generation {
        let config: AdminConfig
        let group: ServiceGroup
        /// Ends when the application's group has returned.
        let ended: AsyncStream<Void>
        /// Set by ``stop(_:)``: an end without it is the application failing on its own.
        let stopping: NIOLockedValueBox<Bool>
        /// Set once the application's group has returned.
        let finished: NIOLockedValueBox<Bool>

        var bind: Endpoint { config.bind }
    }

    /// Starts the application for `config` and waits until it serves (or failed to).
    private func start(
        _ config: AdminConfig, in tasks: inout ThrowingTaskGroup<Void, any Error>
    ) async -> Result<Generation, any Error> {
        let (outcomes, outcome) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let (ended, end) = AsyncStream.makeStream(of: Void.self)
        let application = make(config) { port in outcome.yield(.success(port)) }
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let stopping = NIOLockedValueBox(false)
        let served = NIOLockedValueBox(false)
        let finished = NIOLockedValueBox(false)
        tasks.addTask { [serving, logger] in
            defer {
                finished.withLockedValue { $0 = true }
                end.finish()
            }
            var failure: (any Error)?
            do {
                try await group.run()
            } catch {
                failure = error
            }
            outcome.yield(.failure(failure ?? AdminPlaneError.stoppedBeforeServing))
            // A plane that served and ended without being asked to is worth an error line.
            guard served.withLockedValue({ $0 }), !stopping.withLockedValue({ $0 }), !Task.isShuttingDownGracefully,
                !Task.isCancelled
            else { return }
            serving.withLockedValue { if $0?.bind == config.bind { $0 = nil } }
            logger.error(
                "admin plane ended on its own: no admin plane until a reload or restart",
                metadata: ["bind": "\(config.bind)", "error": "\(failure.map { "\($0)" } ?? "none")"])
        }
        for await first in outcomes {
            if case .success(let port) = first {
                served.withLockedValue { $0 = true }
                serving.withLockedValue { $0 = (config.bind, port) }
                return .success(
                    Generation(config: config, group: group, ended: ended, stopping: stopping, finished: finished))
            }
            if case .failure(let error) = first { return .failure(error) }
        }
        return .failure(AdminPlaneError.stoppedBeforeServing)
    }

    /// Lets `generation` finish its requests and close, and waits until it has.
    private func stop(_ generation: Generation) async {
        generation.stopping.withLockedValue { $0 = true }
        await generation.group.triggerGracefulShutdown()
        for await _ in generation.ended {}
        serving.withLockedValue { if $0?.bind == generation.bind { $0 = nil } }
    }
}

/// Why an admin application gave no port.
enum AdminPlaneError: Error, CustomStringConvertible {
    case stoppedBeforeServing

    var description: String { "the admin application stopped before it served" }
}
