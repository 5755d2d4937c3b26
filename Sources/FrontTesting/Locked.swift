import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// A value behind a mutex, as a class so closures and several owners can share it (a `Mutex` itself
/// cannot be copied or captured). Thread-safe.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: NIOLockedValueBox<Value>

    init(_ value: Value) {
        mutex = NIOLockedValueBox(value)
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLockedValue { body(&$0) }
    }

    /// A copy of the value now.
    var value: Value { withLock { $0 } }
}
