import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The admin plane's access settings that a reload replaces in place: the bearer token (`admin.token`,
/// `token_file` or `token_env`) and the extra `Host` names (`admin.hosts`). Read on every request, so a
/// reload that rotates the token takes effect at once. Thread-safe.
public final class AdminToken: Sendable {
    private let value: NIOLockedValueBox<(token: String?, hosts: [String])>

    public init(_ token: String?, hosts: [String] = []) {
        self.value = NIOLockedValueBox((token, hosts))
    }

    /// The token in force; nil: no request needs one (mutations are then served to loopback peers only).
    public var current: String? { value.withLockedValue { $0.token } }

    /// Host names accepted beside IP literals and `localhost` (``AdminGuard``).
    public var hosts: [String] { value.withLockedValue { $0.hosts } }

    func replace(with token: String?, hosts: [String] = []) {
        value.withLockedValue { $0 = (token, hosts) }
    }

    /// Whether `header` is `Bearer <token>`, compared in time that does not depend on where they differ.
    static func matches(_ header: String?, token: String) -> Bool {
        let expected = Array("Bearer \(token)".utf8)
        let given = Array((header ?? "").utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
