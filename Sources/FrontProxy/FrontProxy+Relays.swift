import FrontConfig
import Logging
import NIOCore
import NIOPosix
import ProxyProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The relay threads of a front: started with it, how they run (`/status`), and the listeners whose
/// connections they accept.
extension FrontProxy {
    /// The relay threads as they run (started with the front; a reload does not change them).
    public struct RelayStatus: Sendable, Equatable {
        /// Relay threads running.
        public var threads: Int
        /// Their scheduler time slice: `100us`, `kernel default`, or why the kernel's is kept; nil
        /// without relay threads.
        public var slice: String?
        /// Sessions whose bytes they carry now.
        public var sessions: Int
        /// The same per relay thread, in index order (`relay_spread` evens them out).
        public var perThread: [Int]
        /// Sessions their assist threads relayed since the start, one per session per shared batch
        /// (`relay_assist`); nil when off.
        public var assisted: Int? = nil
    }

    /// Sessions whose bytes a relay thread carries now.
    public var relayedSessions: Int { relayStatus.sessions }

    /// The relay threads now: how many, their time slice, the sessions they carry.
    public var relayStatus: RelayStatus {
        let relays = owners.relays
        return state.withLockedValue { state in
            let perThread = relays.map { $0.sessionCount.load(ordering: .relaxed) }
            let assists = relays.compactMap(\.assist)
            return RelayStatus(
                threads: relays.count, slice: state.relaySlice,
                sessions: perThread.reduce(0, +), perThread: perThread,
                assisted: assists.isEmpty ? nil : assists.reduce(0) { $0 + $1.taken.load(ordering: .relaxed) })
        }
    }

    /// Starts `relay_threads` relay threads (auto: one per two event loops); none when it is 0 or the
    /// system refuses, in which case every session stays on its channels.
    func startRelays() -> [RelayEngine] {
        let count = configuration.relayThreadCount(eventLoops: loops.all.count)
        var relays: [RelayEngine] = []
        let assist = configuration.relayAssistOn(cpus: System.coreCount, eventLoops: loops.all.count)
        for index in 0..<count {
            do {
                let relay = try RelayEngine(
                    name: "bf-relay-\(index)", index: index, slice: configuration.relaySlice, assist: assist)
                let slice = try relay.start()
                if index == 0 { logSlice(slice) }
                relays.append(relay)
            } catch {
                logger.warning(
                    "relay thread not started; sessions stay on their channels", metadata: ["error": "\(error)"])
                break
            }
        }
        let slices = relays.flatMap(\.threadSlices)
        let summary = RelayEngine.SliceOutcome.summary(slices)
        // The summary is the shared outcome itself unless the threads got different ones.
        if let summary, summary != slices.first?.outcome.description {
            logger.warning("relay threads run with different time slices", metadata: ["slices": "\(summary)"])
        }
        owners.relays = relays
        state.withLockedValue { $0.relaySlice = summary }
        return relays
    }

    /// Says once at start what time slice the relay threads run with; a kernel without custom slices
    /// is no fault (they keep its default), a refused call is worth a warning.
    func logSlice(_ outcome: RelayEngine.SliceOutcome) {
        switch outcome {
        case .kernelDefault, .applied:
            logger.info("relay threads started", metadata: ["slice": "\(outcome)"])
        case .unsupported:
            logger.info("relay threads keep the kernel's time slice", metadata: ["reason": "\(outcome)"])
        case .failed:
            logger.warning("relay threads keep the kernel's time slice", metadata: ["error": "\(outcome)"])
        }
    }

    /// Whether a listener's connections are accepted by the relay threads: plain TCP (a PROXY header
    /// is read there too), relay threads running.
    func acceptsOnRelays(_ config: ListenerConfig) -> Bool {
        config.tls == nil && state.withLockedValue { $0.acceptOnRelays }
    }

    /// Binds the listener on the relay threads: one listening socket per relay thread that serves
    /// event loops (all of them; the first alone with `relay_spread`) on the same address
    /// (SO_REUSEPORT when more than one), each accepted on by its thread.
    func bindOnRelays(_ slot: ListenerSlot, address: SocketAddress) throws -> Bound {
        let config = slot.current.config
        let allRelays = owners.relays
        let allLoops = state.withLockedValue { $0.relayLoops }
        let serving = allRelays.indices.filter { !allLoops[$0].isEmpty }
        let relays = serving.map { allRelays[$0] }
        let shared = try prepareSockets(relays.count, for: config)
        var sockets: [(fd: CInt, port: Int)] = []
        do {
            for _ in relays {
                var target = address
                if let port = sockets.first?.port { target.port = port }
                sockets.append(try RelayListenSocket.open(target, reusePort: shared))
            }
        } catch {
            for socket in sockets { _ = Glibc.close(socket.fd) }
            throw error
        }
        let port = sockets.first?.port ?? config.bind.port
        let wildcard = address.ipAddress == "0.0.0.0" || address.ipAddress == "::"
        let local = wildcard ? nil : ProxyAddress(ip: address.ipAddress ?? config.bind.host, port: port)
        var acceptors: [(engine: RelayEngine, acceptor: RelayAcceptor)] = []
        for (index, engine) in relays.enumerated() {
            let acceptor = RelayAcceptor(
                fd: sockets[index].fd, slot: slot, global: globalLimiter, logger: logger,
                localAddress: local)
            let wake: @Sendable () -> Void = { [weak acceptor] in
                guard let acceptor, acceptor.waitingForSlot.exchange(false, ordering: .relaxed) else { return }
                engine.resumeAccepting(acceptor)
            }
            slot.current.limiter.onSlotFreed(wake)
            globalLimiter.onSlotFreed(wake)
            engine.listen(acceptor)
            acceptors.append((engine, acceptor))
        }
        let binding = ListenerBinding(name: config.name, address: address.ipAddress ?? config.bind.host, port: port)
        logListening(binding, config, acceptedBy: "relay threads")
        return Bound(slot: slot, channels: [], acceptors: acceptors, binding: binding)
    }
}
