import FrontCore
import FrontSession
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Moving an established session off its two SwiftNIO channels onto a ``RelayEngine`` thread.
///
/// Sessions that live at least ``handOffDelayTicks`` (1 s) are moved: a connect-and-leave client
/// never pays for the move. Once the broker has answered (no retry left to make, the MQTT 5 CONNACK read) and nothing is
/// queued in either channel, both sockets are duplicated, the channels closed (the duplicates keep
/// the connections open; nothing is sent), and the relay thread takes the descriptors. The handler
/// stays the session's record on its loop: the session table, deadlines, counters and the log line
/// are unchanged; only the bytes no longer pass through NIO.
extension ClientSessionHandler {
    /// How long a session relays on its channels before it is handed off (wheel ticks: 1 s).
    static let handOffDelayTicks: Int64 = 10

    /// Queues a hand-off attempt when the session looks ready; called when it is due and after
    /// each relayed read.
    func considerHandOff() {
        guard relay == nil, !handOffQueued, isReadyForHandOff, let context else { return }
        handOffQueued = true
        context.eventLoop.assumeIsolated().execute { self.handOff() }
    }

    private var isReadyForHandOff: Bool {
        handOffDue && machine.phase == .relaying && replay == nil && !machine.readsConnAck
            && !machine.clientInputClosed && !machine.serverInputClosed
            && !handOffRefused && loop.relay != nil && listener.tls == nil
    }

    private func handOff() {
        handOffQueued = false
        guard relay == nil, isReadyForHandOff, let context, let upstream, let upstreamChannel = upstream.channel,
            let engine = loop.relay
        else { return }
        let clientChannel = context.channel
        // Bytes still queued in a channel would be lost with it: try again after a later read, or in 1 s.
        guard Self.queuedBytes(clientChannel) == 0, Self.queuedBytes(upstreamChannel) == 0 else {
            handOffDue = false
            handOffTick = loop.tickNow() + Self.handOffDelayTicks
            scheduleDeadline()
            return
        }
        guard let clientFD = SocketHandOff.duplicate(clientChannel) else {
            handOffRefused = true
            return
        }
        guard let serverFD = SocketHandOff.duplicate(upstreamChannel) else {
            Glibc.close(clientFD)
            handOffRefused = true
            return
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let link = RelayLink(
            serverBytesAreActivity: connect == nil, bytesIn: listener.metrics.bytesIn,
            bytesOut: listener.metrics.bytesOut, endsOn: eventLoop
        ) { reason in
            bound.value.relayEnded(reason)
        }
        relay = link
        // The channels' close releases the connection slots the accept gate took; the session keeps them.
        retainConnectionSlots()
        upstream.partner = nil
        self.upstream = nil
        upstreamChannel.close(promise: nil)
        clientChannel.close(promise: nil)
        self.context = nil
        engine.adopt(client: clientFD, server: serverFD, link: link, tracker: machine.takeClientStream())
    }

    /// The relay thread finished the session (nil reason: closed on our request).
    func relayEnded(_ ending: CloseReason?) {
        guard relay != nil else { return }
        // The relay thread closed both sides already: only the reason is the machine's.
        _ = machine.handle(.terminate(ending ?? .clientClosed), at: loop.now())
        finish()
        releaseConnectionSlots()
        // The link's `ended` callback holds this handler: let go of the link, or each relayed
        // session would keep itself (and through `loop`, its front) alive for good.
        (bytesIn, bytesOut) = totalBytes
        relay = nil
    }

    /// Bytes read and written so far, including the relay thread's share.
    var totalBytes: (in: UInt64, out: UInt64) {
        guard let relay else { return (bytesIn, bytesOut) }
        return (
            bytesIn &+ relay.clientBytes.load(ordering: .relaxed),
            bytesOut &+ relay.serverBytes.load(ordering: .relaxed)
        )
    }

    /// The idle clock of a relayed session: its last byte as the relay thread saw it.
    func refreshActivityFromRelay() {
        guard let relay else { return }
        // Answered: no retry is left to make, so the servers tried need not be kept.
        if !machine.answered, relay.answered.load(ordering: .relaxed) { feed(.serverAnswered) }
        let last = relay.lastActivity.load(ordering: .relaxed)
        guard last > 0 else { return }
        feed(.activity(MonotonicTime(nanoseconds: last)))
    }

    private static func queuedBytes(_ channel: any Channel) -> Int {
        (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 1
    }
}

/// The socket descriptor behind a SwiftNIO socket channel.
enum SocketHandOff {
    /// A close-on-exec duplicate of `channel`'s socket, or nil when there is none to be had: not a
    /// socket channel, the descriptor does not match the channel's addresses, or no descriptor is free.
    ///
    /// SwiftNIO has no API for a channel's descriptor; its `description` shows it
    /// (`SocketChannel { BaseSocket { fd=12 }, ... }`). The number is trusted only when the socket
    /// behind it has the channel's local and remote address.
    static func duplicate(_ channel: any Channel) -> CInt? {
        guard let fd = descriptorNumber(in: "\(channel)"), let local = channel.localAddress,
            let remote = channel.remoteAddress, socket(fd, peer: false, is: local), socket(fd, peer: true, is: remote)
        else { return nil }
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        return copy >= 0 ? copy : nil
    }

    /// The number after `fd=` in a channel description.
    static func descriptorNumber(in description: String) -> CInt? {
        // A byte scan: Foundation's range(of:) went through CFString, a cost on every session's move.
        let marker = Array("BaseSocket { fd=".utf8)
        let bytes = Array(description.utf8)
        guard bytes.count >= marker.count else { return nil }
        for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker)
        {
            var value: CInt = 0
            var digits = 0
            for byte in bytes[(start + marker.count)...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 9 else { break }
                value = value * 10 + CInt(byte - UInt8(ascii: "0"))
                digits += 1
            }
            return digits > 0 ? value : nil
        }
        return nil
    }

    /// Whether `fd`'s own address (`getsockname`) or its peer's (`getpeername`) is `expected`:
    /// family, port and IP compared as bytes, without formatting either.
    private static func socket(_ fd: CInt, peer: Bool, is expected: SocketAddress) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
            }
        }
        guard result == 0 else { return false }
        let family = CInt(storage.ss_family)
        return withUnsafeBytes(of: &storage) { actual in
            switch expected {
            case .v4(let address):
                guard family == AF_INET else { return false }
                let found = actual.load(as: sockaddr_in.self)
                return found.sin_port == address.address.sin_port
                    && found.sin_addr.s_addr == address.address.sin_addr.s_addr
            case .v6(let address):
                guard family == AF_INET6 else { return false }
                let found = actual.load(as: sockaddr_in6.self)
                var wanted = address.address.sin6_addr
                var got = found.sin6_addr
                return found.sin6_port == address.address.sin6_port
                    && memcmp(&got, &wanted, MemoryLayout<in6_addr>.size) == 0
            default:
                return false
            }
        }
    }
}
