/// One line of `brokerfront tune`: a host setting compared with what the configuration needs.
///
/// Plain value built by ``TuneAdvisor``; rendered by ``TuneReport`` as `STATUS  name: found; needed`.
public struct TuneCheck: Sendable, Equatable {
    /// The verdict of one check. Ordered: `ok < warn < fail`, so the worst of a list is its `max()`.
    public enum Status: Int, Sendable, Comparable, CaseIterable {
        /// The host has what the sessions need.
        case ok
        /// It works, but with little headroom or a value that could not be read.
        case warn
        /// The requested number of sessions cannot be served as the host is set up.
        case fail

        /// `OK`, `WARN` or `FAIL`.
        public var label: String {
            switch self {
            case .ok: "OK"
            case .warn: "WARN"
            case .fail: "FAIL"
            }
        }

        /// Severity order: `ok < warn < fail`.
        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The verdict.
    public var status: Status
    /// What was checked: a sysctl name (`fs.nr_open`), `nofile`, or `ports 127.0.0.1:1883`.
    public var name: String
    /// What the host has now.
    public var found: String
    /// What the sessions need, and how to get there when the host falls short.
    public var needed: String

    /// A check with its verdict and both halves of its message.
    public init(_ status: Status, _ name: String, found: String, needed: String) {
        self.status = status
        self.name = name
        self.found = found
        self.needed = needed
    }

    /// `OK    name: found; needed`, the status padded so names line up.
    public var line: String {
        let padded = status.label.padding(toLength: 4, withPad: " ", startingAt: 0)
        return "\(padded)  \(name): \(found); \(needed)"
    }
}
