import CEpoll
import FrontConfig
import FrontCore
import MQTTWire
import ProxyProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Listening sockets polled by the relay thread (``RelayAcceptor``), and the accepted connections
/// whose PROXY header or CONNECT is still arriving (``RawSniffer``). Relay thread only.
extension RelayEngine {
    /// Adds a listening socket to the epoll set.
    func startListening(_ acceptor: RelayAcceptor) {
        acceptor.index = acceptors.count
        acceptors.append(acceptor)
        var event = epoll_event()
        event.events = Self.readable
        event.data.u64 = Self.acceptorToken | UInt64(acceptor.index)
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, acceptor.fd, &event) == 0 else {
            acceptor.logger.error(
                "relay thread cannot poll a listening socket", metadata: ["error": "\(errno)"])
            return
        }
        acceptor.polled = true
    }

    /// Closes a listening socket; what it accepted goes on.
    func stopListening(_ acceptor: RelayAcceptor) {
        guard acceptor.index >= 0, acceptor.index < acceptors.count, acceptors[acceptor.index] === acceptor else {
            return
        }
        acceptors[acceptor.index] = nil
        acceptor.index = -1
        if acceptor.resumeAt > 0 {
            acceptor.resumeAt = 0
            acceptorsBackingOff -= 1
        }
        acceptor.waitingForSlot.store(false, ordering: .relaxed)
        // close() takes it out of the epoll set: the engine holds its only descriptor.
        acceptor.closeOnce()
    }

    /// A freed connection slot: poll the socket again unless a back-off is running.
    func resumeListening(_ acceptor: RelayAcceptor) {
        guard acceptor.index >= 0, acceptors[acceptor.index] === acceptor, acceptor.resumeAt == 0 else { return }
        poll(acceptor, true)
    }

    private func poll(_ acceptor: RelayAcceptor, _ on: Bool) {
        guard acceptor.polled != on else { return }
        var event = epoll_event()
        event.events = on ? Self.readable : 0
        event.data.u64 = Self.acceptorToken | UInt64(acceptor.index)
        if epoll_ctl(epollFD, EPOLL_CTL_MOD, acceptor.fd, &event) == 0 { acceptor.polled = on }
    }

    /// New connections wait on a listening socket: accept them while the caps allow.
    func acceptReady(_ index: Int) {
        guard index < acceptors.count, let acceptor = acceptors[index], acceptor.polled else { return }
        var budget = RelayAcceptor.acceptBudget
        while budget > 0 {
            let runtime = acceptor.slot.current
            guard min(runtime.limiter.available, acceptor.global.available) > 0 else {
                waitForSlot(acceptor, runtime: runtime)
                return
            }
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { c_epoll_accept(acceptor.fd, $0, &length) }
            }
            budget -= 1
            guard fd >= 0 else {
                let code = errno
                switch code {
                case EAGAIN, EWOULDBLOCK:
                    return
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    backOff(acceptor, errno: code)
                    return
                default:
                    // ECONNABORTED, EINTR, EPROTO and the like: that connection is gone, go on.
                    continue
                }
            }
            accepted(fd, peer: peer, acceptor: acceptor, runtime: runtime)
        }
    }

    private func accepted(_ fd: CInt, peer: sockaddr_storage, acceptor: RelayAcceptor, runtime: ListenerRuntime) {
        if acceptor.pausesInRow > 0 {
            acceptor.logger.notice(
                "accepting again",
                metadata: ["listener": .string(acceptor.name), "pauses": .stringConvertible(acceptor.pausesInRow)])
            acceptor.pausesInRow = 0
            acceptor.nextBackoff = RelayAcceptor.firstBackoff
        }
        // Another listener, or another thread, may have taken the last slot since the check.
        let listenerSlot = runtime.limiter.tryAcquire()
        guard listenerSlot, acceptor.global.tryAcquire() else {
            if listenerSlot { runtime.limiter.release() }
            Glibc.close(fd)
            runtime.metrics.countRejection(.limit)
            return
        }
        // Counted at accept, as on the channel path, while the CONNECT may still be arriving.
        runtime.metrics.total.increment()
        runtime.metrics.active.increment()
        let local = acceptor.localAddress == nil ? SocketAddressText.local(of: fd) : nil
        let sniffer = RawSniffer(fd: fd, acceptor: acceptor, runtime: runtime, peer: peer, local: local, now: now)
        if runtime.config.acceptProxyProtocol {
            // The PROXY header comes first, from a trusted sender only; per_source_ip then counts the
            // client it names (``proxyHeaderRead(_:_:)``).
            guard runtime.config.trustsProxy(SocketAddressText.ipAndPort(peer).ip) else {
                sniffer.proxyRefusal = "PROXY header sender not in accept_proxy_protocol.trusted"
                handOver(sniffer, .ended(.proxyProtocol))
                return
            }
            sniffer.awaitingProxyHeader = true
            readSniffer(sniffer)
            return
        }
        guard takeSourceSlot(sniffer) else { return }
        if runtime.config.protocol == .tcp {
            handOver(sniffer, .ready)
        } else {
            // The CONNECT often follows the handshake at once: read it now, poll only if it is not here.
            readSniffer(sniffer)
        }
    }

    /// Counts the connection against its client's `per_source_ip` (from the accept, or from the
    /// PROXY header that names the client); over it, the session is closed unread. False then.
    private func takeSourceSlot(_ sniffer: RawSniffer) -> Bool {
        guard sniffer.runtime.config.limits.perSourceIP > 0 else { return true }
        guard sniffer.runtime.sourceLimiter.tryAcquire(sniffer.client.ip) else {
            handOver(sniffer, .ended(.limit))
            return false
        }
        sniffer.holdsSourceSlot = true
        return true
    }

    /// At a cap: stop polling until a slot frees (the limiters' wake calls ``resumeAccepting(_:)``).
    private func waitForSlot(_ acceptor: RelayAcceptor, runtime: ListenerRuntime) {
        poll(acceptor, false)
        acceptor.waitingForSlot.store(true, ordering: .relaxed)
        // A slot freed between the check and the flag would wake nobody: look once more.
        if min(runtime.limiter.available, acceptor.global.available) > 0,
            acceptor.waitingForSlot.exchange(false, ordering: .relaxed)
        {
            poll(acceptor, true)
        }
    }

    /// Out of descriptors or memory: stop polling for a while; connections wait in the backlog.
    private func backOff(_ acceptor: RelayAcceptor, errno code: CInt) {
        if acceptor.pausesInRow == 0 {
            acceptor.logger.warning(
                "accept paused: out of descriptors or memory; connections wait in the backlog",
                metadata: ["listener": .string(acceptor.name), "error": .string(String(cString: strerror(code)))])
        }
        acceptor.pausesInRow += 1
        poll(acceptor, false)
        if acceptor.resumeAt == 0 { acceptorsBackingOff += 1 }
        acceptor.resumeAt = now &+ acceptor.nextBackoff
        acceptor.nextBackoff = min(acceptor.nextBackoff * 2, RelayAcceptor.longestBackoff)
    }

    /// The connections still sending their CONNECT, for `GET /sessions`: their count and the first
    /// `keep` by client address. They have no client id, backend or server yet: they match only an
    /// unfiltered listing.
    func describeSniffers(_ filter: SessionFilter, keep: Int, now: MonotonicTime) -> RelaySessionsPart {
        guard filter.clientID == nil, filter.server == nil else { return (0, []) }
        var first = SmallestElements<(client: String, sniffer: RawSniffer)>(capacity: keep) { $0.client < $1.client }
        var total = 0
        for case let sniffer? in sniffers {
            total += 1
            let client = sniffer.client
            first.offer((Endpoint(host: client.ip, port: client.port).description, sniffer))
        }
        return (total, first.sorted().map { $0.sniffer.info(client: $0.client, now: now) })
    }

    /// A sniffer's socket is readable.
    func sniffReady(_ index: Int) {
        guard index < sniffers.count, let sniffer = sniffers[index] else { return }
        readSniffer(sniffer)
    }

    /// Reads what the client sent; hands the connection over once the CONNECT is settled, or when the
    /// client went away, and polls it otherwise.
    private func readSniffer(_ sniffer: RawSniffer) {
        guard let base = scratch.baseAddress else { return }
        while true {
            // The PROXY header is read no further than its largest size; what follows is the CONNECT's.
            let room =
                sniffer.awaitingProxyHeader
                ? max(1, ProxyHeaderParser.defaultMaxLength - sniffer.bytes.count) : Self.scratchSize
            let received = recv(sniffer.fd, base, room, 0)
            if received > 0 {
                let read = UnsafeRawBufferPointer(start: base, count: received)
                let handedOver =
                    sniffer.awaitingProxyHeader ? proxyHeaderRead(sniffer, read) : connectRead(sniffer, read)
                if handedOver { return }
            } else if received == 0 {
                handOver(sniffer, .clientClosed)
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                if sniffer.index < 0 { pollSniffer(sniffer) }
                return
            } else {
                handOver(sniffer, .clientClosed)
                return
            }
        }
    }

    /// Bytes of the CONNECT: held in the listener's `max_pending_connect_bytes` (past it, the
    /// connection is closed rather than buffered); true once handed over (the CONNECT is settled).
    private func connectRead(_ sniffer: RawSniffer, _ read: UnsafeRawBufferPointer) -> Bool {
        guard sniffer.runtime.pendingConnect.tryHold(read.count) else {
            handOver(sniffer, .ended(.limit))
            return true
        }
        sniffer.heldConnectBytes += read.count
        sniffer.bytes.append(contentsOf: read)
        let limit = sniffer.runtime.config.maxConnectSize
        guard sniffer.bytes.withUnsafeBytes({ MQTTConnectParser.isSettled($0, maxPacketSize: limit) }) else {
            return false
        }
        handOver(sniffer, .ready)
        return true
    }

    /// Bytes of the PROXY header (`accept_proxy_protocol`), parsed as the channel path's
    /// ``ProxyHeaderHandler`` does: an invalid one closes the connection (`proxy_protocol`); a whole
    /// one names the client and the address it connected to, and what followed it is the CONNECT's.
    /// True once handed over.
    private func proxyHeaderRead(_ sniffer: RawSniffer, _ read: UnsafeRawBufferPointer) -> Bool {
        sniffer.bytes.append(contentsOf: read)
        switch ProxyHeaderParser.parse(sniffer.bytes) {
        case .needMoreData:
            return false
        case .invalid(let error):
            sniffer.proxyRefusal = "no valid PROXY header: \(error)"
            handOver(sniffer, .ended(.proxyProtocol))
            return true
        case .complete(let header, let length):
            sniffer.awaitingProxyHeader = false
            sniffer.proxiedSource = header.source
            sniffer.proxiedDestination = header.destination
            let rest = Array(sniffer.bytes[length...])
            sniffer.bytes = []
            guard takeSourceSlot(sniffer) else { return true }
            if sniffer.runtime.config.protocol == .tcp {
                sniffer.bytes = rest
                handOver(sniffer, .ready)
                return true
            }
            return rest.isEmpty ? false : rest.withUnsafeBytes { connectRead(sniffer, $0) }
        }
    }

    private func pollSniffer(_ sniffer: RawSniffer) {
        let index = freeSniffers.popLast() ?? sniffers.count
        if index == sniffers.count { sniffers.append(nil) }
        var event = epoll_event()
        event.events = Self.readable
        event.data.u64 = Self.snifferToken | UInt64(index)
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, sniffer.fd, &event) == 0 else {
            freeSniffers.append(index)
            handOver(sniffer, .clientClosed)
            return
        }
        sniffers[index] = sniffer
        sniffer.index = index
        snifferCount += 1
    }

    /// Queues the connection to start as a driven session after this pass.
    private func handOver(_ sniffer: RawSniffer, _ outcome: RawAccepted.Outcome) {
        if sniffer.index >= 0 {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, sniffer.fd, nil)
            sniffers[sniffer.index] = nil
            freeSniffers.append(sniffer.index)
            sniffer.index = -1
            snifferCount -= 1
        }
        pendingStarts.append(RawAccepted(connection: sniffer, outcome: outcome))
    }

    /// Starts the connections settled in this pass as driven sessions.
    func startAccepted() {
        guard !pendingStarts.isEmpty else { return }
        let starting = pendingStarts
        pendingStarts.removeAll(keepingCapacity: true)
        for item in starting { startSession(item.connection, item.outcome) }
    }

    /// Whether a sniffer's deadline or the end of a back-off is pending: the loop then wakes every 100 ms.
    var hasAcceptTimers: Bool { snifferCount > 0 || acceptorsBackingOff > 0 }

    /// Connect deadlines of sniffers and the end of back-offs, looked at every 50 ms at most.
    func checkAcceptTimers() {
        guard now >= lastTimerCheck &+ 50_000_000 else { return }
        lastTimerCheck = now
        if snifferCount > 0 {
            for case let sniffer? in sniffers where now >= sniffer.deadline {
                // Still without its PROXY header: refused as the channel path refuses it.
                handOver(sniffer, .ended(sniffer.awaitingProxyHeader ? .proxyProtocol : .connectTimeout))
            }
        }
        if acceptorsBackingOff > 0 {
            for case let acceptor? in acceptors where acceptor.resumeAt > 0 && now >= acceptor.resumeAt {
                acceptor.resumeAt = 0
                acceptorsBackingOff -= 1
                poll(acceptor, true)
            }
        }
    }

    /// Closes the connections still sending their CONNECT that `match` names (they have no client
    /// id or server yet: only ``SessionMatch/every`` does) with `reason`; returns how many.
    func closeSniffers(_ match: SessionMatch, reason: CloseReason) -> Int {
        guard case .every = match else { return 0 }
        var closed = 0
        for case let sniffer? in sniffers {
            handOver(sniffer, .ended(reason))
            closed += 1
        }
        return closed
    }

    /// The thread stops: listening sockets and connections not handed over yet are closed.
    func closeAccepting() {
        for case let acceptor? in acceptors { stopListening(acceptor) }
        for case let sniffer? in sniffers { sniffer.discard() }
        sniffers.removeAll()
        snifferCount = 0
        for item in pendingStarts { item.connection.discard() }
        pendingStarts.removeAll()
    }
}
