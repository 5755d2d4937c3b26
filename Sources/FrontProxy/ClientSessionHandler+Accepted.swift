import FrontCore
import FrontSession
import NIOCore
import ProxyProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// A session accepted by a relay thread (``RelayAcceptor``) has no channel. Its
/// handler holds the client's socket (``acceptedFD``) from the hand-over until the first dial moves
/// it to the relay thread with the server's (``dialFromRelay(_:source:port:timeout:header:)``);
/// a refusal or a deadline before that closes it here. Everything else (the CONNECT's verdict,
/// filters, admission, routing, the log line) is the channel path's code.
extension ClientSessionHandler {
    /// Builds the handler of a connection a relay thread accepted, on `loop` (its event loop).
    static func accepted(_ item: RawAccepted, on loop: LoopState) {
        ClientSessionHandler(listener: item.connection.runtime, loop: loop).start(item.connection, item.outcome)
    }

    private func start(_ connection: RawSniffer, _ outcome: RawAccepted.Outcome) {
        acceptedFD = connection.fd
        books.holdsSourceSlot = connection.holdsSourceSlot
        books.heldConnectBytes = connection.heldConnectBytes
        let client = connection.client
        books.setClient(ip: client.ip, port: client.port)
        proxiedDestination = connection.destination
        if let refusal = connection.proxyRefusal {
            listener.logger.debug("refusing client: \(refusal)", metadata: ["client": .string(clientAddress)])
        }
        // total and active were counted by the relay thread at accept.
        loop.register(self)
        // The deadline runs from the accept, as on the channel path.
        machine = SessionMachine(
            settings: listener.sessionSettings, acceptedAt: MonotonicTime(nanoseconds: connection.acceptedAt))
        arm(machine.deadline)
        // Bytes of an unfinished PROXY header are not the client's (the channel path never sees them).
        if !connection.bytes.isEmpty, !connection.awaitingProxyHeader {
            bytesIn &+= UInt64(connection.bytes.count)
            listener.metrics.bytesIn.increment(by: Int64(connection.bytes.count))
            pending = ByteBuffer(bytes: connection.bytes)
        }
        switch outcome {
        case .ready:
            // The relay thread took the accept-time checks (per_source_ip) and read the PROXY header.
            feed(.admission(.admitted))
            if listener.config.acceptProxyProtocol { feed(.proxyHeader(valid: true)) }
        case .clientClosed:
            feed(.inputClosed(.client))
        case .ended(let reason):
            feed(.terminate(reason))
        }
    }

    /// Ends a session whose socket is still here (not moved): `bytes` (a refusing CONNACK) first,
    /// then close, the books, and the connection slots the relay thread took at accept.
    func closeAccepted(sending bytes: [UInt8] = []) {
        guard acceptedFD >= 0 else { return }
        if !bytes.isEmpty {
            _ = bytes.withUnsafeBytes { send(acceptedFD, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
        }
        Glibc.close(acceptedFD)
        acceptedFD = -1
        if machine.phase != .closing { _ = machine.handle(.terminate(.clientClosed), at: loop.now()) }
        finish()
        releaseConnectionSlots()
    }
}
