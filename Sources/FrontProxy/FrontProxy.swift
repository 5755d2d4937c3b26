import CoreMetrics
import FrontConfig
import FrontCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ProxyProtocol

import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// Where a listener ended up bound (the port is the real one when the config asked for port 0).
public struct ListenerBinding: Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
}

/// The data path of one process: listeners, their sessions, and the routing state they share.
///
/// Start binds every listener (all or nothing); ``apply(_:)`` swaps in a new configuration
/// (reload); `stopAccepting` closes the listening sockets and leaves sessions alone;
/// `closeAllSessions` ends what is left. Thread-safe.
public final class FrontProxy: Sendable {
    public let routing: RoutingState
    let group: any EventLoopGroup
    let loops: LoopStates
    let globalLimiter: ConnectionLimiter
    let logger: Logger
    let metricsFactory: any MetricsFactory
    /// Health flips, failover and operator actions on servers.
    public let events: ServerEvents
    let state: NIOLockedValueBox<State>

    /// One listening socket and the runtime its new connections get.
    struct Bound {
        var slot: ListenerSlot
        /// One listening socket per event loop (SO_REUSEPORT), each accepting onto its own loop.
        var channels: [any Channel]
        /// Or, with relay threads (plain TCP), one listening socket per relay thread, accepted on there.
        var acceptors: [(engine: RelayEngine, acceptor: RelayAcceptor)] = []
        var binding: ListenerBinding

        /// Closes every listening socket of the listener; its sessions go on.
        func close() async {
            for channel in channels { try? await channel.close() }
            for (engine, acceptor) in acceptors {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    engine.unlisten(acceptor) { done.resume() }
                }
            }
        }
    }

    struct State {
        var configuration: FrontConfiguration
        /// Bound listeners in config order.
        var listeners: [Bound] = []
        /// What the scheduler gave the relay and assist threads (`relay_slice`), as `/status` shows
        /// it; nil without relay threads.
        var relaySlice: String?
        /// The event loops each relay thread serves (parallel to ``SessionOwners/relays``).
        var relayLoops: [[LoopState]] = []
        /// Plain-TCP listeners accept on the relay threads (whenever relay threads run).
        var acceptOnRelays = false
        /// Set by ``FrontProxy/stopAccepting()``: the front is shutting down and binds nothing more.
        var stopping = false
    }

    /// Prepares (binds nothing yet) a front for `configuration` on `group`.
    public init(
        configuration: FrontConfiguration,
        group: any EventLoopGroup,
        logger: Logger,
        metricsFactory: any MetricsFactory
    ) {
        self.group = group
        let loops = LoopStates(group: group)
        self.loops = loops
        self.logger = logger
        self.metricsFactory = metricsFactory
        let reserve = FileDescriptorLimit.reserve(for: configuration, eventLoops: loops.all.count)
        self.globalLimiter = ConnectionLimiter(
            descriptors: DescriptorCap(configured: configuration.maxConnections, reserve: reserve),
            configured: configuration.maxConnections, reserve: reserve
        ) { soft, cap in
            logger.notice(
                "open-file limit changed; new sessions are capped at what fits",
                metadata: ["nofile_soft": .stringConvertible(soft), "sessions_that_fit": .stringConvertible(cap)])
        }
        let routing = RoutingState(snapshot: RoutingSnapshot(configuration: configuration), factory: metricsFactory)
        self.routing = routing
        let events = ServerEvents(
            routing: routing, owners: SessionOwners(loops: loops), factory: metricsFactory, logger: logger)
        self.events = events
        self.state = NIOLockedValueBox(State(configuration: configuration))
    }

    /// Where the sessions live (event loops, relay threads), to list and close them.
    var owners: SessionOwners { events.owners }

    /// Whether a shutdown began (``stopAccepting()``): the listeners are closed and sessions drain.
    public var isStopping: Bool { state.withLockedValue { $0.stopping } }

    /// The configuration in force (the last one applied).
    public var configuration: FrontConfiguration { state.withLockedValue { $0.configuration } }

    /// Binds every listener; on any failure closes those already bound and throws.
    public func start() async throws {
        PortRange.warnAboutOverlaps(in: configuration, logger: logger)
        let relays = startRelays()
        var relayLoops = Array(repeating: [LoopState](), count: relays.count)
        // `relay_spread`: every session starts on the first relay thread, which gives the long ones away.
        let spreading = relays.count > 1 && configuration.relaySpread > .zero
        if spreading {
            for relay in relays { relay.spread(to: relays, after: configuration.relaySpread) }
        }
        for (index, state) in loops.all.enumerated() {
            let relayIndex = spreading ? 0 : index % max(relays.count, 1)
            if !relays.isEmpty { relayLoops[relayIndex].append(state) }
            try await state.eventLoop.submit { state.start() }.get()
        }
        let acceptOnRelays = !relays.isEmpty
        state.withLockedValue {
            $0.relayLoops = relayLoops
            $0.acceptOnRelays = acceptOnRelays
        }
        // Every listener's TLS material loads before anything is bound: all or nothing.
        let prepared = try configuration.listeners.map { config in
            ListenerRuntime(
                config: config, routing: routing, events: events, factory: metricsFactory, logger: logger,
                tls: try TLSContextFactory.make(for: config))
        }
        do {
            for runtime in prepared {
                let bound = try await bind(ListenerSlot(runtime))
                state.withLockedValue { $0.listeners.append(bound) }
            }
        } catch {
            await stopAccepting()
            throw error
        }
    }

    /// The bound address of every listener, in config order.
    public var boundListeners: [ListenerBinding] { state.withLockedValue { $0.listeners.map(\.binding) } }

    /// Client connections open now, in all listeners.
    public var activeSessions: Int { globalLimiter.current }

    /// Open connections of one listener.
    public func activeSessions(listener name: String) -> Int {
        state.withLockedValue { $0.listeners.first { $0.binding.name == name }?.slot.current.limiter.current } ?? 0
    }

    /// Closes every listening socket; open sessions go on.
    public func stopAccepting() async {
        let listeners = state.withLockedValue { state in
            defer {
                state.listeners.removeAll()
                state.stopping = true
            }
            return state.listeners
        }
        for listener in listeners { await listener.close() }
    }

    /// Closes every open session with `reason` and waits (up to 5 s) until they are gone.
    public func closeAllSessions(reason: CloseReason) async {
        mover.cancelAll()
        owners.close(.every, reason: reason)
        let deadline = ContinuousClock.now + .seconds(5)
        while activeSessions > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until no session is open or `timeout` passes; true when all ended by themselves.
    public func waitForSessionsToEnd(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while activeSessions > 0 {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// Stops the wheels' ticking tasks and the relay threads (after the last session closed).
    public func stopTimers() async {
        for state in loops.all {
            try? await state.eventLoop.submit { state.stop() }.get()
        }
        let relays = owners.relays
        owners.relays = []
        state.withLockedValue { $0.relaySlice = nil }
        for relay in relays { relay.stop() }
    }

    /// Session handlers not yet deallocated, over all loops (see ``LoopState/handlersAlive``).
    public var sessionHandlersAlive: Int {
        loops.all.reduce(0) { $0 + $1.handlersAlive.load(ordering: .relaxed) }
    }

    /// Binds the listener: one listening socket per event loop on the same address (SO_REUSEPORT), so
    /// each loop accepts its own connections and no accepted socket crosses threads; the kernel
    /// spreads new connections over them. Unless the listener asks for `reuse_port`, a probe first
    /// makes sure nothing else listens there (SO_REUSEPORT alone would let another process join).
    func bind(_ slot: ListenerSlot) async throws -> Bound {
        let listener = slot.current
        if acceptsOnRelays(listener.config),
            let address = try? SocketAddress(
                ipAddress: listener.config.bind.host, port: listener.config.bind.port)
        {
            return try bindOnRelays(slot, address: address)
        }
        let eventLoops = Array(group.makeIterator())
        let shared = try prepareSockets(eventLoops.count, for: listener.config)
        var channels: [any Channel] = []
        do {
            for eventLoop in eventLoops {
                let port = channels.first?.localAddress?.port ?? listener.config.bind.port
                let bootstrap = bootstrap(for: slot, on: eventLoop, reusePort: shared)
                channels.append(try await bootstrap.bind(host: listener.config.bind.host, port: port).get())
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        let channel = channels[0]
        let local = channel.localAddress
        let binding = ListenerBinding(
            name: listener.config.name, address: local?.ipAddress ?? listener.config.bind.host,
            port: local?.port ?? listener.config.bind.port)
        logListening(binding, listener.config)
        return Bound(slot: slot, channels: channels, binding: binding)
    }

    /// Whether the listener's `count` sockets share their address (SO_REUSEPORT: several of them, or
    /// `reuse_port`). Unless the listener asks for `reuse_port`, a probe first makes sure nothing
    /// else listens there (SO_REUSEPORT alone would let another process join).
    func prepareSockets(_ count: Int, for config: ListenerConfig) throws -> Bool {
        if count > 1, !config.reusePort, config.bind.port != 0 {
            try ListenerProbe.ensureNobodyListens(host: config.bind.host, port: config.bind.port)
        }
        return count > 1 || config.reusePort
    }

    /// The `listening` line of a bound listener; `acceptedBy` names who accepts when it is not SwiftNIO.
    func logListening(_ binding: ListenerBinding, _ config: ListenerConfig, acceptedBy: String? = nil) {
        var metadata: Logger.Metadata = [
            "listener": .string(config.name), "bind": .string("\(binding.address):\(binding.port)"),
            "protocol": .string(config.protocol.rawValue), "backend": .string(config.backend),
        ]
        if let acceptedBy { metadata["accept"] = .string(acceptedBy) }
        logger.notice("listening", metadata: metadata)
    }

    /// The server bootstrap of one of the listener's sockets, accepting onto `eventLoop`.
    private func bootstrap(for slot: ListenerSlot, on eventLoop: any EventLoop, reusePort: Bool) -> ServerBootstrap {
        let listener = slot.current
        let global = globalLimiter
        let loops = self.loops
        let logger = self.logger
        var bootstrap = ServerBootstrap(group: eventLoop)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let gate = AcceptGateHandler(listener: listener.limiter, global: global) {
                        slot.current.metrics.countRejection(.limit)
                    }
                    try channel.pipeline.syncOperations.addHandler(gate)
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptPauseHandler(name: listener.config.name, logger: logger))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let loop = loops.state(for: channel.eventLoop) else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    try SocketTuning.apply(to: channel)
                    let listener = slot.current
                    if listener.config.acceptProxyProtocol {
                        try channel.pipeline.syncOperations.addHandler(ProxyHeaderHandler())
                    }
                    if let tls = listener.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientSessionHandler(listener: listener, loop: loop))
                }
            }
        if reusePort {
            bootstrap = bootstrap.serverChannelOption(SocketTuning.reusePort, value: 1)
        }
        return bootstrap
    }
}
