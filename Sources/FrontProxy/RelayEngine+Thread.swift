import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

extension RelayEngine {
    /// Starts a thread (not one of SwiftNIO's or Swift Concurrency's) that runs `body`.
    static func spawnThread(_ body: @escaping @Sendable () -> Void) throws(RelayEngineError) -> pthread_t {
        final class Body {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var id = pthread_t()
        let created = pthread_create(
            &id, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<Body>.fromOpaque(argument).takeRetainedValue().run()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw RelayEngineError(call: "pthread_create", errno: created)
        }
        return id
    }

    /// The thread id kept in `box`, taken out (nil once taken): whoever gets it joins the thread.
    static func takeThread(_ box: NIOLockedValueBox<pthread_t?>) -> pthread_t? {
        box.withLockedValue { value in
            defer { value = nil }
            return value
        }
    }
}

/// A peer relay thread, held weakly: threads refer to one another without keeping one another alive.
struct WeakRelayEngine: @unchecked Sendable {
    weak var engine: RelayEngine?
    init(_ engine: RelayEngine) { self.engine = engine }
}
