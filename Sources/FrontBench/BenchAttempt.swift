/// Which connect of a bench client a connection is: the first, or a reconnect after a server close.
///
/// The first connect counts in the connect-phase figures (`connected`, `failed`, CONNACK latency); a
/// reconnect counts in ``ReconnectStats``. Plain value, any thread.
public enum BenchAttempt: Sendable, Equatable {
    /// The client's first connect of the run.
    case first
    /// A reconnect after a server close, preceded by `failures` consecutive failed reconnects.
    case reconnect(failures: Int)

    /// How a connection of the reconnecting mode ended, reported to whoever schedules the next attempt.
    public enum Outcome: Sendable, Equatable {
        /// The session was connected and the server side closed it (TCP close or DISCONNECT).
        case closedByServer
        /// The attempt never reached a successful CONNACK.
        case failed
    }

    /// The consecutive failures behind the attempt after this one ended with `outcome`.
    public func failuresAfter(_ outcome: Outcome) -> Int {
        switch (self, outcome) {
        case (_, .closedByServer), (.first, .failed): return 0
        case (.reconnect(let failures), .failed): return failures + 1
        }
    }
}
