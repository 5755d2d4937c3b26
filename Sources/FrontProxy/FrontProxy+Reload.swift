import FrontConfig
import FrontCore
import Logging
import NIOCore
import NIOSSL

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// A reload asked for while the front shuts down (after ``FrontProxy/stopAccepting()``): it would
/// bind listeners again in the middle of the drain.
public struct ReloadWhileStopping: Error, CustomStringConvertible, Sendable {
    public var description: String { "the front is shutting down; the configuration is not applied" }
}

/// What a reload changed, for the log line and the `POST /reload` answer.
public struct ReloadSummary: Sendable, Equatable, Encodable {
    public var listenersAdded: [String] = []
    public var listenersRemoved: [String] = []
    public var listenersRebound: [String] = []
    public var listenersUpdated: [String] = []
    /// `backend/server` of servers that left; their sessions close after `drain_timeout`.
    public var serversRemoved: [String] = []
}

extension FrontProxy {
    /// Swaps in a new, already validated configuration without closing sessions whose server still
    /// exists: the routing snapshot is rebuilt (servers keep their health and counters by name, each
    /// backend its active server by name; what the new settings change in failover is logged,
    /// counted and acted on), every listener's TLS files are read again (also at unchanged paths),
    /// listeners whose socket is unchanged keep it and only get the new settings for new
    /// connections, changed or new ones are bound, removed ones are closed. Sessions on servers
    /// that are gone run on and are closed after `drain_timeout` (reason `server_removed`).
    /// Throws when a listener cannot be bound; then nothing has been swapped: listeners that had to
    /// be closed first to reuse their address are bound again with their old settings. Throws
    /// ``ReloadWhileStopping`` once the front shuts down.
    public func apply(_ new: FrontConfiguration) async throws -> ReloadSummary {
        var summary = ReloadSummary()
        let old = state.withLockedValue { $0 }
        guard !old.stopping else { throw ReloadWhileStopping() }
        // 0. TLS material for every listener loads first, from the files as they are now (a
        // certificate renewed at the same path is picked up): a bad file fails the reload whole.
        var contexts: [String: NIOSSLContext?] = [:]
        for config in new.listeners {
            contexts[config.name] = try TLSContextFactory.make(for: config)
        }

        // 1. Bind what needs a new socket, before anything is swapped.
        var bound: [String: Bound] = [:]
        var closedForRebind: [Bound] = []
        do {
            for config in new.listeners {
                let previous = old.listeners.first { $0.binding.name == config.name }
                if let previous, Self.sameSocket(previous.slot.current.config, config),
                    acceptsOnRelays(previous.slot.current.config) == acceptsOnRelays(config)
                {
                    continue
                }
                if let previous, previous.slot.current.config.bind == config.bind {
                    await previous.close()  // the same address cannot be bound twice
                    closedForRebind.append(previous)
                }
                let runtime = ListenerRuntime(
                    config: config, routing: routing, events: events, factory: metricsFactory, logger: logger,
                    tls: contexts[config.name] ?? nil, previous: previous?.slot.current)
                bound[config.name] = try await bind(ListenerSlot(runtime))
                if previous == nil {
                    summary.listenersAdded.append(config.name)
                } else {
                    summary.listenersRebound.append(config.name)
                }
            }
        } catch {
            for listener in bound.values { await listener.close() }
            await restore(closedForRebind)
            throw error
        }

        // 2. Swap routing and caps. The snapshot is built just before the swap, so the health it
        // carries over is the latest.
        let oldSnapshot = routing.snapshot
        let newSnapshot = RoutingSnapshot(configuration: new, previous: oldSnapshot)
        routing.replace(with: newSnapshot)
        for backend in newSnapshot.backends {
            events.apply(backend.reevaluate(), in: backend)
        }
        let reserve = FileDescriptorLimit.reserve(for: new, eventLoops: loops.all.count)
        globalLimiter.follow(configured: new.maxConnections, reserve: reserve)

        // 3. Listeners in new config order: kept ones get a new runtime in their slot.
        var listeners: [Bound] = []
        for config in new.listeners {
            if let fresh = bound[config.name] {
                listeners.append(fresh)
            } else if let kept = old.listeners.first(where: { $0.binding.name == config.name }) {
                if kept.slot.current.config != config { summary.listenersUpdated.append(config.name) }
                kept.slot.current = ListenerRuntime(
                    config: config, routing: routing, events: events, factory: metricsFactory, logger: logger,
                    tls: contexts[config.name] ?? nil, previous: kept.slot.current)
                listeners.append(kept)
            }
        }
        let keptNames = Set(new.listeners.map(\.name))
        for listener in old.listeners
        where !keptNames.contains(listener.binding.name) || bound[listener.binding.name] != nil {
            if !keptNames.contains(listener.binding.name) { summary.listenersRemoved.append(listener.binding.name) }
            await listener.close()
        }
        let installed = state.withLockedValue { state in
            guard !state.stopping else { return false }
            state.configuration = new
            state.listeners = listeners
            return true
        }
        guard installed else {
            // The shutdown began while this reload bound: its listeners are not the drain's to keep.
            for listener in bound.values { await listener.close() }
            throw ReloadWhileStopping()
        }

        // 4. Sessions on servers that left: drain, then close.
        var survivors = Set<String>()
        for backend in newSnapshot.backends {
            for server in backend.servers { survivors.insert("\(backend.name)/\(server.name)") }
        }
        var before = Set<String>()
        for backend in oldSnapshot.backends {
            for server in backend.servers {
                before.insert("\(backend.name)/\(server.name)")
                if !survivors.contains("\(backend.name)/\(server.name)") {
                    summary.serversRemoved.append("\(backend.name)/\(server.name)")
                }
            }
        }
        // `rebalance: auto`: an added server without a check is up at once (one with a check is
        // rebalanced for when its first check passes).
        for backend in newSnapshot.backends where backend.config.healthCheck == nil {
            for server in backend.servers where !before.contains("\(backend.name)/\(server.name)") {
                events.rebalanceAfterSlowStart(server)
            }
        }
        if !summary.serversRemoved.isEmpty {
            let gone = Set(summary.serversRemoved)
            // Moved off at their backend's rate; what is left when the drain ends is closed.
            for backend in oldSnapshot.backends {
                for server in backend.servers where gone.contains("\(backend.name)/\(server.name)") {
                    events.moveSessions(of: server, cause: .removed, within: new.drainTimeout)
                }
            }
            let drain = TimeAmount.nanoseconds(Int64(clamping: new.drainTimeout.nanosecondsClamped))
            let owners = owners
            loops.all.first?.eventLoop.scheduleTask(in: drain) {
                owners.close(.server { gone.contains("\($0.backendName)/\($0.name)") }, reason: .serverRemoved)
            }
        }
        PortRange.warnAboutOverlaps(in: new, logger: logger)
        return summary
    }

    /// After a failed reload: binds again, with the settings they had, the listeners it closed to
    /// reuse their address, in place of their closed sockets. A bind that fails is tried again a few
    /// times (100 ms apart): the address was ours a moment ago.
    private func restore(_ closed: [Bound]) async {
        for previous in closed {
            let name = previous.binding.name
            do {
                var attempt = 1
                let rebound: Bound
                while true {
                    do {
                        rebound = try await bind(previous.slot)
                        break
                    } catch  where attempt < 5 {
                        attempt += 1
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
                let placed = state.withLockedValue { state in
                    guard !state.stopping, let index = state.listeners.firstIndex(where: { $0.binding.name == name })
                    else { return false }
                    state.listeners[index] = rebound
                    return true
                }
                if !placed { await rebound.close() }
            } catch {
                logger.error(
                    "listener not bound again after a failed reload: it accepts nothing until a reload binds it",
                    metadata: ["listener": .string(name), "error": "\(error)"])
            }
        }
    }

    /// Whether two listener configs can share one listening socket (same address and socket options);
    /// everything else, protocol included, is read per new connection from the slot.
    static func sameSocket(_ a: ListenerConfig, _ b: ListenerConfig) -> Bool {
        a.bind == b.bind && a.reusePort == b.reusePort
    }
}
