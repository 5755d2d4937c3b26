import FrontConfig
import FrontTesting
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

    @Test(
        "the process-wide cap follows the open-file limit: lowered under the front, the cap drops to what fits (2 per session after the reserve); raised again, it rises and wakes waiters"
    )
    func followsDescriptorLimit() async {
        let soft = Atomic<UInt64>(1024)
        let told = Mutex<[(UInt64, Int)]>([])
        let descriptors = DescriptorCap(configured: 0, reserve: 64) { soft.load(ordering: .relaxed) }
        let limiter = ConnectionLimiter(descriptors: descriptors, configured: 0, reserve: 64) { soft, cap in
            told.withLock { $0.append((soft, cap)) }
        }
        let wakes = Atomic<Int>(0)
        limiter.onSlotFreed { wakes.add(1, ordering: .relaxed) }
        #expect(limiter.capacity == 480)
        for _ in 0..<100 { #expect(limiter.tryAcquire()) }
        soft.store(256, ordering: .relaxed)
        // Read again at most every 10 ms: a look right after the start may still see the old cap.
        let lowered = await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) { limiter.available == 0 }
        #expect(lowered)
        #expect(limiter.capacity == 96)
        #expect(!limiter.tryAcquire())
        #expect(told.withLock { $0.map(\.0) } == [256] && told.withLock { $0.map(\.1) } == [96])
        soft.store(1024, ordering: .relaxed)
        let raised = await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) { limiter.available > 0 }
        #expect(raised)
        #expect(limiter.capacity == 480)
        #expect(wakes.load(ordering: .relaxed) == 1)
        // A configured max_connections below what fits stays the cap (a reload sets it).
        limiter.follow(configured: 50, reserve: 64)
        #expect(limiter.capacity == 50)
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
