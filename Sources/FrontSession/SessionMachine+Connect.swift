import FrontCore
import MQTTWire
import ProxyProtocol

/// From accept to the dial: admission, the PROXY header, the CONNECT, routing, and what each dial
/// failure means.
extension SessionMachine {
    /// The accept-time checks, or the listener's filters after the CONNECT, answered.
    mutating func admission(_ verdict: AdmissionVerdict, into actions: inout Actions) {
        let atAccept: Bool
        switch phase {
        case .accepting: atAccept = true
        case .admitting: atAccept = false
        case .awaitingAdmission: atAccept = queuedAtAccept
        default: return
        }
        switch verdict {
        case .admitted where atAccept:
            queuedAtAccept = false
            identify(into: &actions)
        case .admitted:
            phase = .routing
            actions.append(.arm(nil))
            actions.append(.route)
        case .queued:
            queuedAtAccept = atAccept
            phase = .awaitingAdmission
        case .refused(let reason) where atAccept:
            // Before a byte of MQTT was read: a close with no bytes.
            close(reason, into: &actions)
        case .refused(let reason):
            refuse(reason, into: &actions)
        }
    }

    /// The PROXY header comes first on a listener that expects one; otherwise the client is known.
    mutating func identify(into actions: inout Actions) {
        if settings.expectsProxyHeader {
            phase = .awaitingProxyHeader
        } else {
            identified(into: &actions)
        }
    }

    /// The client's address is known: an MQTT listener now waits for the CONNECT, a tcp one is admitted.
    mutating func identified(into actions: inout Actions) {
        if settings.isMQTT {
            phase = .sniffing
            actions.append(.sniffPending)
        } else {
            phase = .admitting
            actions.append(.admit)
        }
    }

    mutating func proxyHeader(valid: Bool, into actions: inout Actions) {
        guard phase == .awaitingProxyHeader else { return }
        if valid {
            identified(into: &actions)
        } else {
            close(.proxyProtocol, into: &actions)
        }
    }

    /// Parses the CONNECT once its fixed header says it is whole (or settled early: not a CONNECT,
    /// too large), and acts on the verdict: a CONNECT dribbled in small pieces costs one parse, not
    /// one per read. A first packet that is no valid CONNECT gets what a broker would answer
    /// (``MQTTConnectError/reply(version:)``), counted as `malformed_connect`.
    mutating func sniff(_ bytes: UnsafeRawBufferPointer, into actions: inout Actions) {
        let limit = settings.maxConnectSize
        guard MQTTConnectParser.isSettled(bytes, maxPacketSize: limit) else { return }
        switch MQTTConnectParser.parse(bytes, maxPacketSize: limit) {
        case .needMoreData:
            return
        case .invalid(let error):
            actions.append(.invalidConnect(error))
            refuse(
                .malformedConnect, reply: error.reply(version: MQTTConnectParser.announcedVersion(bytes)),
                into: &actions)
        case .complete(var packet, _):
            // Kept for the session's life: only what routing, limits, logs and the sessions API read.
            packet.password = nil
            packet.will = nil
            packet.properties = []
            connect = packet
            phase = .admitting
            actions.append(.admit)
        }
    }

    /// The backend is known: the first dial, or `no_server`.
    mutating func routed(_ route: SessionRoute, at now: MonotonicTime, into actions: inout Actions) {
        guard phase == .routing else { return }
        guard let backend = route.backend else {
            refuse(.noServer, into: &actions)
            return
        }
        self.backend = backend
        clientIP = route.client.ip
        certificateCN = route.certificateCN
        // Mixed families (an IPv4 client on a dual-stack listener) go as IPv4-mapped IPv6 in either
        // version, as HAProxy sends them: the broker gets the version it was configured for.
        switch backend.config.sendProxyProtocol {
        case .v1: proxyHeader = ProxyHeaderEncoder.v1(source: route.client, destination: route.destination)
        case .v2: proxyHeader = ProxyHeaderEncoder.v2(source: route.client, destination: route.destination)
        case .none: proxyHeader = nil
        }
        attemptsLeft = backend.config.retries + 1
        dialNext(at: now, into: &actions)
    }

    /// Dials the next candidate, or refuses the client when none is left.
    mutating func dialNext(at now: MonotonicTime, into actions: inout Actions) {
        guard let backend else { return }
        let key = RoutingKey(
            clientID: connect?.clientID, username: connect?.username, sourceIP: clientIP, certificateCN: certificateCN)
        guard attemptsLeft > 0, let server = backend.choose(for: key, at: now, excluding: tried) else {
            refuse(.noServer, into: &actions)
            return
        }
        attemptsLeft -= 1
        tried.append(server)
        dial(server, at: now, afterPortCollision: false, into: &actions)
    }

    /// One dial of `server` (again, after a port collision): its order, and when it began (a
    /// timeout's evidence is weighed from then).
    mutating func dial(
        _ server: ServerRuntime, at now: MonotonicTime, afterPortCollision: Bool, into actions: inout Actions
    ) {
        guard let backend else { return }
        phase = .dialing
        target = server
        dialBegunAt = now
        actions.append(
            .dial(
                DialOrder(
                    server: server, timeout: backend.config.connectTimeout, proxyHeader: proxyHeader,
                    afterPortCollision: afterPortCollision)))
    }

    /// The dial of ``target`` failed, or the server was lost before it answered.
    ///
    /// A source port taken outside the pool is retried on the same server (``maxPortCollisions``
    /// times); a connect that completed after a failover gives its attempt back; a close after the
    /// client's bytes went out is never evidence: the bytes go to one more server, then the client
    /// is closed as `unanswered_connect`. Anything else is told to passive health (when it is
    /// evidence: refused, reset, timed out) and the next candidate is tried.
    mutating func dialFailed(_ failure: DialFailure, at now: MonotonicTime, into actions: inout Actions) {
        guard let server = target else { return }
        var failure = failure
        if case .timedOut(nil) = failure { failure = .timedOut(begunAt: dialBegunAt) }
        if phase == .relaying {
            serverLost()
            actions.append(.serverLost)
        }
        let dialing = phase == .dialing
        switch failure {
        case .portCollision where dialing && portCollisions < Self.maxPortCollisions:
            portCollisions += 1
            dial(server, at: now, afterPortCollision: true, into: &actions)
            return
        case .superseded:
            guard dialing else { return }
            attemptsLeft += 1
        case .closedSilently:
            guard dialing else { return }
            unansweredCloses &+= 1
            guard unansweredCloses < Self.unansweredClosesToRefuse else {
                refuse(.unansweredConnect, reply: [], into: &actions)
                return
            }
        default:
            actions.append(.dialFailed(server, failure, counts: failure.isEvidence))
        }
        if dialing { dialNext(at: now, into: &actions) }
    }

    /// The server of a relaying session is gone before it answered: back to dialing.
    mutating func serverLost() {
        phase = .dialing
        isReplaying = false
        replayCount = 0
        probe = nil
        dialDeadline = nil
    }
}
