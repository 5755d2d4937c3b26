import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The admin plane's bearer token (`admin.token`), read on every state-changing request, so a reload
/// that rotates it takes effect at once. Thread-safe.
public final class AdminToken: Sendable {
    private let value: NIOLockedValueBox<String?>

    public init(_ token: String?) {
        self.value = NIOLockedValueBox(token)
    }

    /// The token in force; nil: state-changing requests need none.
    public var current: String? { value.withLockedValue { $0 } }

    func replace(with token: String?) {
        value.withLockedValue { $0 = token }
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
