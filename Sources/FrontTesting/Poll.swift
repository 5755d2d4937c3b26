/// Bounded waiting for a condition that becomes true by itself (a log line, a gauge, a port).
///
/// Polls with `Task.sleep`, so it never blocks a thread; every wait ends at its timeout.
public enum Poll {
    /// Checks `condition` every `interval` until it is true (returns true) or `timeout` passes
    /// (returns false after one last check).
    public static func until(
        timeout: Duration,
        interval: Duration = .milliseconds(20),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        }
        return try await condition()
    }

    /// Checks `value` every `interval` until it gives something (returned) or `timeout` passes
    /// (returns nil unless one last check gives something).
    public static func value<T>(
        timeout: Duration,
        interval: Duration = .milliseconds(20),
        _ value: () async throws -> T?
    ) async rethrows -> T? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = try await value() { return found }
            try? await Task.sleep(for: interval)
        }
        return try await value()
    }
}
