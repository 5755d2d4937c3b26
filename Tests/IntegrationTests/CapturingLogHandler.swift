import Logging

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Every log event of one in-process front, kept in memory so a test can look for its
/// `session closed ... reason=...` lines without a global logging bootstrap. Thread-safe.
final class CapturedLogs: Sendable {
    /// One event: level, message and metadata rendered as strings.
    struct Event: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let events = NIOLockedValueBox<[Event]>([])

    /// A logger writing into this store at `level` (nothing reaches stdout).
    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "brokerfront-test") { _ in CapturingLogHandler(store: self) }
        logger.logLevel = level
        return logger
    }

    func append(_ event: Event) {
        events.withLockedValue { $0.append(event) }
    }

    /// All events so far.
    var all: [Event] { events.withLockedValue { $0 } }

    /// Every event except `session closed`, one line each: what a failed expectation prints so the
    /// front's own account (checks, failovers, conflicts) is in the CI log.
    var controlLines: String {
        all.filter { $0.message != "session closed" }
            .map { event in
                let fields = event.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return "[\(event.level)] \(event.message) \(fields.joined(separator: " "))"
            }
            .joined(separator: "\n")
    }

    /// The metadata of every `session closed` event so far.
    var sessionsClosed: [[String: String]] {
        all.filter { $0.message == "session closed" }.map(\.metadata)
    }
}

/// Forwards events to a ``CapturedLogs``.
struct CapturingLogHandler: LogHandler {
    let store: CapturedLogs
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        store.append(
            .init(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
