import CEpoll
import FrontConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The scheduler time slice a relay thread asks for (`relay_slice`) and what became of it.
extension RelayEngine {
    /// What became of the time slice a relay thread asked for (``RelayEngine/init(name:slice:)``).
    enum SliceOutcome: Equatable, Sendable, CustomStringConvertible {
        /// None was asked for (`relay_slice: 0`).
        case kernelDefault
        /// The kernel reports this slice for the thread now.
        case applied(Duration)
        /// The kernel took the request but has no custom slices (Linux before 6.12).
        case unsupported
        /// sched_setattr or sched_getattr failed (errno), or the thread runs in a class without
        /// slices (EINVAL).
        case failed(errno: CInt)

        var description: String {
            switch self {
            case .kernelDefault: "kernel default"
            case .applied(let slice): DurationParser.format(slice)
            case .unsupported: "not supported by this kernel (custom slices need Linux 6.12)"
            case .failed(let code): RelayEngineError(call: "sched_setattr", errno: code).description
            }
        }

        /// One line for `/status`: the outcome every thread shares, or each thread's when they differ
        /// (one refused, say); nil without threads.
        static func summary(_ slices: [ThreadSlice]) -> String? {
            guard let first = slices.first else { return nil }
            if slices.allSatisfy({ $0.outcome == first.outcome }) { return first.outcome.description }
            return slices.map { "\($0.thread): \($0.outcome)" }.joined(separator: "; ")
        }
    }

    /// What the scheduler gave one thread (a relay thread or its assist thread), by thread name.
    struct ThreadSlice: Equatable, Sendable {
        var thread: String
        var outcome: SliceOutcome
    }

    /// Asks the scheduler for ``slice`` for the calling thread (the relay thread, or its assist
    /// thread, which is woken for a batch just as the relay thread is).
    func applySlice() -> SliceOutcome {
        let nanoseconds = slice.nanosecondsClamped
        guard nanoseconds > 0 else { return .kernelDefault }
        let result = c_epoll_set_slice(nanoseconds)
        switch result {
        case 0: return .unsupported
        case ..<0: return .failed(errno: CInt(-result))
        default: return .applied(.nanoseconds(result))
        }
    }
}
