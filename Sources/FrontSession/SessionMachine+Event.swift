import FrontCore
import ProxyProtocol

extension SessionMachine {
    /// Something that happened to a session, as its driver tells its ``SessionMachine``.
    ///
    /// Bytes are lent for the call only (the driver keeps them): the machine reads, never stores them.
    public enum Event {
        /// The accept-time checks (PROXY sender trust, `per_source_ip`, a TLS listener's `accept_rate`)
        /// or, after the CONNECT, the listener's filters (client id, `accept_rate`) gave their verdict.
        case admission(AdmissionVerdict)
        /// The PROXY header was read (`valid`), or cannot be.
        case proxyHeader(valid: Bool)
        /// Bytes from the client. Before the relay: every byte it sent so far (the driver's buffer);
        /// while relaying: the new bytes.
        case clientBytes(UnsafeRawBufferPointer)
        /// The driver resolved the listener's backend in the routing snapshot in force (``SessionMachine.Action/route``).
        case routed(SessionRoute)
        /// The server's connection is open (``SessionMachine.Action/dial(_:)``): `connected`, or connecting on a
        /// relay thread, which then sends the bytes; either way the session relays from now on.
        /// `sent`: the client's bytes that go to the server (the CONNECT and what followed it).
        case dialOpened(connected: Bool, sent: UnsafeRawBufferPointer)
        /// A connect that was in progress (on a relay thread) completed.
        case serverConnected
        /// The dial failed, or the server was lost before it answered.
        case dialFailed(DialFailure)
        /// Bytes from the server (the channel path).
        case serverBytes(UnsafeRawBufferPointer)
        /// Bytes from the server went by on a relay thread (it tells only the first answer).
        case serverAnswered
        /// An MQTT 5 CONNACK's Server Keep Alive, read on a relay thread.
        case serverKeepAlive(UInt16)
        /// The server's connection closed (the channel path).
        case serverClosed
        /// The client's connection closed.
        case clientClosed
        /// `side` sent its FIN.
        case inputClosed(SessionSide)
        /// The client was active at this moment (read on a relay thread).
        case activity(MonotonicTime)
        /// The session's deadline may have come (see ``SessionMachine.Action/arm(_:)``).
        case tick
        /// Ended from outside (operator, failover, drain, shutdown, a TLS error): closed with `reason`
        /// unless one was recorded already.
        case terminate(CloseReason)
        /// The session was moved off its server (``CloseReason/moved``) for `cause`.
        case moved(MoveCause)
    }

}

/// One end of a session.
public enum SessionSide: Sendable, Equatable {
    case client
    case server
}

/// What the accept-time checks or the listener's filters said.
public enum AdmissionVerdict: Sendable, Equatable {
    case admitted
    /// Over `accept_rate` but queued: a later `.admitted` resumes (the connect deadline still runs).
    case queued
    /// Refused with this reason (`limit`, `denied`, `proxy_protocol`).
    case refused(CloseReason)
}

/// The backend a session goes to and what the PROXY header for the broker says.
public struct SessionRoute {
    /// The backend of the listener's name in the snapshot in force; nil: none (`no_server`).
    public var backend: BackendRuntime?
    /// The client (the socket's peer, or as a PROXY header named it).
    public var client: ProxyAddress
    /// The address the client connected to.
    public var destination: ProxyAddress
    /// The client certificate's subject CN (TLS listeners with `client_ca`), for routing.
    public var certificateCN: String?

    public init(backend: BackendRuntime?, client: ProxyAddress, destination: ProxyAddress, certificateCN: String?) {
        self.backend = backend
        self.client = client
        self.destination = destination
        self.certificateCN = certificateCN
    }
}
