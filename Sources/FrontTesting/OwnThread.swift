import Foundation

/// Runs blocking work (a load generator's run, a SwiftNIO `wait()`) on a thread of its own, so that it
/// never holds one of the few threads of Swift's cooperative pool, which every async test shares: on a
/// 2-core machine two blocked pool threads stall the whole test process.
public enum OwnThread {
    /// `body`'s result, computed on a new thread.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
