import NIOCore

/// The monotonic clock every bench measurement uses: NIO's uptime in nanoseconds, the same on all
/// threads of one process. Callable from any thread.
public enum BenchClock {
    /// Nanoseconds of monotonic time now.
    @inline(__always) public static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
