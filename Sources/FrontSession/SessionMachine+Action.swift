import FrontCore
import MQTTWire

extension SessionMachine {
    /// What a ``SessionMachine`` asks its driver to do, in order.
    public enum Action {
        /// The machine needs a ``SessionMachine.Event/tick`` at this moment (nil: no deadline now).
        case arm(MonotonicTime?)
        /// Run the listener's filters after the CONNECT (client id, `accept_rate`) and tell the
        /// verdict (``SessionMachine.Event/admission(_:)``); release the CONNECT's bytes from the pending budget.
        case admit
        /// Feed the client's bytes so far again (``SessionMachine.Event/clientBytes(_:)``): the CONNECT is
        /// looked at from now on.
        case sniffPending
        /// Resolve the listener's backend and tell it (``SessionMachine.Event/routed(_:)``).
        case route
        /// Dial a server (on a failure: ``SessionMachine.Event/dialFailed(_:)``).
        case dial(DialOrder)
        /// Passive health: this dial failure counts against the server (`counts`) or, false, only
        /// deserves a warning (the front lacked something of its own).
        case dialFailed(ServerRuntime, DialFailure, counts: Bool)
        /// The relay's server was lost before it answered: the session is no longer counted on it (and
        /// its deadlines are off); a dial or a refusal follows.
        case serverLost
        /// Close the server's connection unused: it closed its input before answering; a
        /// ``SessionMachine.Event/serverClosed`` follows.
        case dropServer
        /// The client's first packet is no valid CONNECT, for this reason (for the log; a refusal follows).
        case invalidConnect(MQTTConnectError)
        /// Send `reply` (a refusing CONNACK, or nothing) to the client, then close it.
        case refuse(CloseReason, reply: [UInt8])
        /// Pass a FIN on: shut down the output toward `side`.
        case shutdownOutput(SessionSide)
        /// Close both sides; `reason` is the session's (``SessionMachine/reason``).
        case close(CloseReason)
        /// The connect of a dial in progress took too long: abort it (a ``SessionMachine.Event/dialFailed(_:)``
        /// with a timeout follows).
        case abortDial
    }

}

/// One dial: which server, how long it may take to connect, and what goes first.
public struct DialOrder {
    public var server: ServerRuntime
    /// The backend's `connect_timeout`.
    public var timeout: Duration
    /// The PROXY header for the broker (`send_proxy_protocol`), before the client's bytes.
    public var proxyHeader: [UInt8]?
    /// Another try of the same server with another source port (`source_ports` collision).
    public var afterPortCollision: Bool
}

extension SessionMachine {
    /// The actions one event led to: a small inline buffer (no allocation per event).
    public struct Actions: Sequence {
        private var storage: (Action?, Action?, Action?, Action?) = (nil, nil, nil, nil)
        public private(set) var count = 0

        public init() {}

        mutating func append(_ action: SessionMachine.Action) {
            switch count {
            case 0: storage.0 = action
            case 1: storage.1 = action
            case 2: storage.2 = action
            default: storage.3 = action
            }
            count = Swift.min(count + 1, 4)
        }

        public subscript(index: Int) -> SessionMachine.Action? {
            switch index {
            case 0: storage.0
            case 1: storage.1
            case 2: storage.2
            case 3: storage.3
            default: nil
            }
        }

        public func makeIterator() -> Iterator { Iterator(actions: self) }

        /// Walks the actions in order.
        public struct Iterator: IteratorProtocol {
            let actions: Actions
            var position = 0

            public mutating func next() -> SessionMachine.Action? {
                defer { position += 1 }
                return position < actions.count ? actions[position] : nil
            }
        }
    }
}
