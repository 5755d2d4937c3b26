import FrontCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process-wide session cap kept in step with the soft RLIMIT_NOFILE in force.
///
/// The limit can be lowered under a running front (`prlimit --pid`, a supervisor). A cap computed
/// for the old limit would then let accepted connections take every descriptor, and the process
/// needs some beyond its sessions at any moment: the Swift runtime's thread pool (libdispatch)
/// opens `/proc/<tid>/stat` to watch its threads and traps when it cannot. So the accept paths ask
/// for the cap again (``ConnectionLimiter``), and it is computed afresh from the limit at most every
/// ``interval``: after the reserve, 2 descriptors per session (``FileDescriptorLimit``).
final class DescriptorCap: Sendable {
    /// How often the soft limit is read again, at most (CLOCK_MONOTONIC nanoseconds).
    static let interval: UInt64 = 10_000_000

    /// The configured `max_connections` (0: none) and the descriptors kept besides sessions.
    private let settings: Mutex<(configured: Int, reserve: UInt64)>
    /// When the limit was last read; 0: never.
    private let checkedAt = Atomic<UInt64>(0)
    /// The soft limit last read.
    private let lastSoft = Atomic<UInt64>(0)
    private let softLimit: @Sendable () -> UInt64?

    /// `softLimit` reads the soft RLIMIT_NOFILE (nil when it cannot); tests hand in their own.
    init(
        configured: Int, reserve: UInt64,
        softLimit: @escaping @Sendable () -> UInt64? = DescriptorCap.currentSoftLimit
    ) {
        self.settings = Mutex((configured, reserve))
        self.softLimit = softLimit
    }

    /// The soft RLIMIT_NOFILE in force now; nil when it cannot be read.
    @Sendable static func currentSoftLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return UInt64(limit.rlim_cur)
    }

    /// New settings (at start, on a reload): the cap for them under the limit in force now.
    func update(configured: Int, reserve: UInt64) -> Int {
        settings.withLock { $0 = (configured, reserve) }
        checkedAt.store(MonotonicTime.now().nanoseconds, ordering: .relaxed)
        let soft = softLimit() ?? .max
        lastSoft.store(soft, ordering: .relaxed)
        return cap(soft: soft)
    }

    /// The cap under the limit in force now when the limit changed since it was last read (read
    /// at most every ``interval``, by one caller at a time); nil when it is unchanged or not due.
    func changedCap(now: UInt64) -> (soft: UInt64, cap: Int)? {
        let last = checkedAt.load(ordering: .relaxed)
        guard now &- last >= Self.interval,
            checkedAt.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else { return nil }
        let soft = softLimit() ?? .max
        guard lastSoft.exchange(soft, ordering: .relaxed) != soft else { return nil }
        return (soft, cap(soft: soft))
    }

    /// `configured` (0: none), lowered to the sessions that fit in `soft` after the reserve (at least 1).
    private func cap(soft: UInt64) -> Int {
        let (configured, reserve) = settings.withLock { $0 }
        let fit =
            soft >= UInt64(Int.max)
            ? Int.max : max(Int(FileDescriptorLimit.sessionsThatFit(soft: soft, reserve: reserve)), 1)
        return configured <= 0 ? fit : min(configured, fit)
    }
}
