import ServiceLifecycle

import struct Foundation.Date
import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The front's recent totals for the HTML page's charts (`GET /status/history`): a sample every
/// ``intervalSeconds`` (5 s), the last ``capacity`` (180, so 15 minutes) kept in a ring.
///
/// A sample holds totals (sessions open now; connections, refusals and moves since the start), so the
/// page derives per-second rates from two consecutive samples. What is read and when is injected:
/// the front reads ``MetricTotals`` with the wall clock; tests pass their own. Run as a service it
/// samples at once and then every interval until graceful shutdown. Thread-safe.
public final class StatusHistory: Service, Sendable {
    /// What the front counts at one moment.
    public struct Totals: Sendable, Equatable {
        /// Sessions open now.
        public var sessions: Int
        /// Connections accepted since the start, every listener.
        public var connects: Int
        /// Connections refused since the start, by reason (`brokerfront_connections_rejected_total`).
        public var rejected: [String: Int]
        /// Sessions moved since the start, every server and cause.
        public var moved: Int

        public init(sessions: Int, connects: Int, rejected: [String: Int], moved: Int) {
            self.sessions = sessions
            self.connects = connects
            self.rejected = rejected
            self.moved = moved
        }
    }

    /// One sample as `GET /status/history` sends it: the totals and when (Unix seconds).
    public struct Sample: Codable, Sendable, Equatable {
        public var t: Int
        public var sessions: Int
        public var connects: Int
        public var rejected: [String: Int]
        public var moved: Int

        public init(t: Int, totals: Totals) {
            self.t = t
            sessions = totals.sessions
            connects = totals.connects
            rejected = totals.rejected
            moved = totals.moved
        }
    }

    /// The `GET /status/history` document.
    public struct Document: Codable, Sendable, Equatable {
        public var interval_seconds: Int
        /// Oldest first.
        public var samples: [Sample]
    }

    /// Seconds between samples.
    public let intervalSeconds: Int
    /// Samples kept; the oldest goes when a new one comes.
    public let capacity: Int
    private let clock: @Sendable () -> Date
    private let read: @Sendable () -> Totals
    /// The ring: `next` is where the next sample goes (the oldest once full).
    private let ring: NIOLockedValueBox<(samples: [Sample], next: Int)>

    /// A history reading `read` at `clock`'s time every `intervalSeconds`, keeping `capacity` samples.
    public init(
        capacity: Int = 180, intervalSeconds: Int = 5, clock: @escaping @Sendable () -> Date = { Date() },
        read: @escaping @Sendable () -> Totals
    ) {
        self.capacity = max(capacity, 1)
        self.intervalSeconds = max(intervalSeconds, 1)
        self.clock = clock
        self.read = read
        ring = NIOLockedValueBox(([], 0))
    }

    /// Reads the totals now and keeps them as the newest sample.
    public func sample() {
        let sample = Sample(t: Int(clock().timeIntervalSince1970.rounded(.down)), totals: read())
        let capacity = capacity
        ring.withLockedValue { ring in
            if ring.samples.count < capacity {
                ring.samples.append(sample)
            } else {
                ring.samples[ring.next] = sample
            }
            ring.next = (ring.next + 1) % capacity
        }
    }

    /// The samples kept, oldest first.
    public var samples: [Sample] {
        ring.withLockedValue { ring in
            Array(ring.samples[ring.next...] + ring.samples[..<ring.next])
        }
    }

    /// What `GET /status/history` answers now.
    public var document: Document {
        Document(interval_seconds: intervalSeconds, samples: samples)
    }

    /// Samples now, then every ``intervalSeconds`` until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.sample()
                guard (try? await Task.sleep(for: .seconds(self.intervalSeconds))) != nil else { return }
            }
        }
    }
}
