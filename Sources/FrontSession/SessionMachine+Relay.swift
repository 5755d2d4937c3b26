import FrontCore
import MQTTWire

/// While relaying: the client's bytes (DISCONNECT, replay), the server's first answer (MQTT 5
/// Server Keep Alive), FINs and who is blamed for the close.
extension SessionMachine {
    /// Before the relay, the bytes so far are looked at while sniffing only; while relaying, the
    /// new bytes are activity, tracked for a DISCONNECT and counted against the replay's bound.
    mutating func clientBytes(_ bytes: UnsafeRawBufferPointer, at now: MonotonicTime, into actions: inout Actions) {
        switch phase {
        case .sniffing:
            sniff(bytes, into: &actions)
        case .relaying:
            lastActivity = now
            trackClient(bytes)
            if isReplaying {
                replayCount += bytes.count
                if replayCount > settings.replayLimit { isReplaying = false }
            }
        default:
            break
        }
    }

    /// Follows the client's packets; a DISCONNECT makes the client the side that ended the session,
    /// whoever closes the socket first afterwards.
    mutating func trackClient(_ bytes: UnsafeRawBufferPointer) {
        if clientStream.feedUntilDone(bytes), firstToFinish == nil { firstToFinish = .clientClosed }
    }

    /// The server's connection is open: the session relays `sent` (and what follows) to it.
    mutating func dialOpened(
        connected: Bool, sent: UnsafeRawBufferPointer, at now: MonotonicTime, into actions: inout Actions
    ) {
        guard phase == .dialing else { return }
        phase = .relaying
        dialDeadline = connected ? nil : now.adding(backend?.config.connectTimeout ?? .zero)
        if let connect {
            clientStream = MQTTStreamTracker()
            trackClient(sent)
            if connect.version == .v5, !answered { probe = ConnAckKeepAliveProbe() }
            idleTimeout = KeepalivePolicy.idleTimeout(keepAlive: connect.keepAlive, settings: settings.keepalive)
        } else {
            let idle = settings.keepalive.idleTimeout
            idleTimeout = idle > .zero ? idle : nil
        }
        isReplaying = keepsReplay
        replayCount = sent.count
        lastActivity = now
        actions.append(.arm(deadline))
        if clientInputClosed { actions.append(.shutdownOutput(.server)) }
    }

    mutating func serverConnected(into actions: inout Actions) {
        guard dialDeadline != nil else { return }
        dialDeadline = nil
        actions.append(.arm(deadline))
    }

    /// Bytes from the server: the first ones end the replay; an MQTT 5 CONNACK may carry a Server
    /// Keep Alive; on `tcp`, bytes either way are activity.
    mutating func serverBytes(_ bytes: UnsafeRawBufferPointer, at now: MonotonicTime, into actions: inout Actions) {
        guard phase == .relaying else { return }
        if !answered { serverAnswered() }
        if connect == nil { lastActivity = now }
        guard var probe else { return }
        guard let verdict = probe.feed(bytes) else {
            self.probe = probe
            return
        }
        self.probe = nil
        if case .value(let seconds) = verdict { serverKeepAlive(seconds, into: &actions) }
    }

    /// The server answered: no more retries, so neither the replay nor the servers tried are needed.
    mutating func serverAnswered() {
        guard !answered else { return }
        answered = true
        isReplaying = false
        tried = []
    }

    /// MQTT 5.0 §3.2.2.3.14: a Server Keep Alive in the broker's CONNACK replaces the client's
    /// keepalive, so the idle deadline follows it.
    mutating func serverKeepAlive(_ seconds: UInt16, into actions: inout Actions) {
        guard phase == .relaying else { return }
        idleTimeout = KeepalivePolicy.idleTimeout(keepAlive: seconds, settings: settings.keepalive)
        actions.append(.arm(deadline))
    }

    /// The server's connection closed: before any answer (and with the client still there) that is
    /// a silent close, replayed once; after, the session ends, blamed on whoever finished first.
    mutating func serverClosed(at now: MonotonicTime, into actions: inout Actions) {
        guard phase == .relaying else { return }
        if isReplaying, !clientInputClosed {
            dialFailed(.closedSilently, at: now, into: &actions)
            return
        }
        close(firstToFinish ?? .serverClosed, into: &actions)
    }

    /// A FIN: passed on to the other side, or the end once both sides sent theirs.
    mutating func inputClosed(_ side: SessionSide, into actions: inout Actions) {
        switch side {
        case .client:
            clientInputClosed = true
            if firstToFinish == nil { firstToFinish = .clientClosed }
            switch phase {
            case .relaying:
                if serverInputClosed {
                    close(firstToFinish ?? .clientClosed, into: &actions)
                } else {
                    actions.append(.shutdownOutput(.server))
                }
            case .routing, .dialing:
                break  // applied when the relay starts
            default:
                close(.clientClosed, into: &actions)
            }
        case .server:
            guard phase == .relaying else { return }
            if isReplaying {
                // The broker hung up before answering anything: a silent close, once its connection is gone.
                actions.append(.dropServer)
                return
            }
            serverInputClosed = true
            if firstToFinish == nil { firstToFinish = .serverClosed }
            if clientInputClosed {
                close(firstToFinish ?? .clientClosed, into: &actions)
            } else {
                actions.append(.shutdownOutput(.client))
            }
        }
    }
}

extension Optional where Wrapped == MQTTStreamTracker {
    /// Feeds the client's bytes to its tracker, and lets the tracker go once it has nothing more to
    /// tell (it saw the DISCONNECT, or lost the packet boundaries); true when the bytes held the
    /// DISCONNECT. Shared by the session machine and the relay thread.
    public mutating func feedUntilDone(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var tracker = self else { return false }
        tracker.feed(bytes)
        self = tracker.sawDisconnect || !tracker.isTracking ? nil : tracker
        return tracker.sawDisconnect
    }
}
