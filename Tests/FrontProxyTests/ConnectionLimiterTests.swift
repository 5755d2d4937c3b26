import FrontConfig
import Synchronization
import Testing

@testable import FrontProxy

@Suite("Connection limiter")
struct ConnectionLimiterTests {
    @Test("acquires up to the cap, then refuses; release frees a slot and wakes waiters")
    func capAndWake() {
        let limiter = ConnectionLimiter(capacity: 2)
        let wakes = Atomic<Int>(0)
        limiter.onSlotFreed { wakes.add(1, ordering: .relaxed) }
        #expect(limiter.tryAcquire())
        #expect(limiter.tryAcquire())
        #expect(!limiter.tryAcquire())
        #expect(limiter.available == 0)
        limiter.release()
        #expect(wakes.load(ordering: .relaxed) == 1)
        #expect(limiter.available == 1)
        #expect(limiter.tryAcquire())
    }

    @Test("capacity 0 means no cap")
    func unlimited() {
        let limiter = ConnectionLimiter(capacity: 0)
        for _ in 0..<1000 { #expect(limiter.tryAcquire()) }
        #expect(limiter.current == 1000)
        #expect(limiter.available == .max)
    }
}

@Suite("Accept rate queue")
struct AcceptRateLimiterTests {
    @Test("the queue holds what connect_timeout could admit, at least 16, at most Int32.max")
    func queueCapacity() {
        #expect(AcceptRateLimiter(rate: 100, connectTimeout: .seconds(5)).queueCapacity == 500)
        #expect(AcceptRateLimiter(rate: 1, connectTimeout: .seconds(1)).queueCapacity == 16)
        // Any count and duration the config accepts: the product once trapped converting it to an Int.
        #expect(
            AcceptRateLimiter(rate: Int.max, connectTimeout: .seconds(5)).queueCapacity
                == AcceptRateLimiter.maximumQueue)
        #expect(
            AcceptRateLimiter(rate: 1_000, connectTimeout: .nanoseconds(Int64.max)).queueCapacity
                == AcceptRateLimiter.maximumQueue)
    }
}

@Suite("Descriptors the caps need")
struct FileDescriptorNeedTests {
    @Test(
        "2 per session plus the reserve (at least 64, more with loops, listeners, checks and the admin plane); caps near Int.max saturate instead of trapping"
    )
    func needed() {
        func config(global: Int, listeners: [Int]) -> FrontConfiguration {
            FrontConfiguration(
                maxConnections: global,
                listeners: listeners.enumerated().map { index, cap in
                    ListenerConfig(
                        name: "l\(index)", bind: Endpoint(host: "127.0.0.1", port: 1883 + index), backend: "b",
                        maxConnections: cap)
                })
        }
        #expect(FileDescriptorLimit.needed(for: config(global: 9_000, listeners: [0]), eventLoops: 1) == 18_064)
        #expect(FileDescriptorLimit.needed(for: config(global: 9_000, listeners: [100, 200]), eventLoops: 1) == 664)
        // Both once trapped in `run` at start: a huge global cap, and huge listener caps added up.
        #expect(FileDescriptorLimit.needed(for: config(global: .max, listeners: [0]), eventLoops: 1) == .max)
        #expect(FileDescriptorLimit.needed(for: config(global: .max, listeners: [.max, .max]), eventLoops: 1) == .max)
    }
}
