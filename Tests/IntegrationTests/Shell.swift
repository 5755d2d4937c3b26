import FrontConfig
import FrontTesting

/// The machinery that serves a plain-TCP session, selected by `relay_threads` alone.
///
/// Integration suites run their session behaviour on both (`@Test(arguments: Shell.allCases)`): each
/// shell has its own accept, dial, relay, timer and close code, so a behaviour proven on one says
/// nothing about the other.
enum Shell: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The default (`relay_threads` auto): sessions are accepted and relayed on the relay threads' epoll loops.
    case relayThreads
    /// `relay_threads: 0`: every session stays on its SwiftNIO channels end to end (as a TLS listener's do).
    case swiftNIO

    var description: String { rawValue }

    /// Sets `relay_threads` for this shell (auto for ``relayThreads``, 0 for ``swiftNIO``).
    func apply(to config: inout FrontConfiguration) {
        switch self {
        case .relayThreads: config.relayThreads = nil
        case .swiftNIO: config.relayThreads = 0
        }
    }

    /// Whether `front` serves its `open` sessions the way this shell does: all of them on running
    /// relay threads, or none and no relay thread at all. Proof that a case ran on the shell it names.
    func carries(_ open: Int, on front: RunningFront) async -> Bool {
        switch self {
        case .relayThreads:
            await Poll.until(timeout: .seconds(3)) {
                let status = front.runner.proxy.relayStatus
                return status.threads > 0 && status.sessions == open
            }
        case .swiftNIO:
            front.runner.proxy.relayStatus.threads == 0 && front.runner.proxy.relayedSessions == 0
        }
    }
}

extension FrontConfiguration {
    /// The same configuration served by `shell`.
    func on(_ shell: Shell) -> FrontConfiguration {
        var copy = self
        shell.apply(to: &copy)
        return copy
    }
}
