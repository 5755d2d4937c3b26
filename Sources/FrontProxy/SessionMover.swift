import CoreMetrics
import FrontCore
import FrontSession
import Logging

import struct Foundation.Date
import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Paces bulk moves: each move (an evacuation, a rebalance, a failback, a server in maint or
/// removed, the shutdown drain) runs as one job that hands the session owners a few sessions at a
/// time, so the brokers left see new CONNECTs at the job's rate instead of all at once.
///
/// Every 10 ms a job asks the owners to begin the moves its ``MovePace`` allows (`rate` per second,
/// smoothly; late ticks made up a little faster afterwards), each owner taking its longest-idle
/// sessions first: an idle device is the least likely to be in the middle of a packet, and the
/// least disturbed by a reconnect. A job ends when no session it selects is left, or when a newer
/// job takes its place. Thread-safe.
public final class SessionMover: Sendable {
    /// Which jobs replace each other: one per server, and one per backend (`server` nil).
    struct JobKey: Hashable, Sendable {
        var backend: String
        var server: String?
    }

    /// How a running job stands, for `/status` and the HTML page.
    public struct Progress: Sendable, Equatable {
        public var cause: MoveCause
        /// Sessions per second; 0: all at once.
        public var rate: Int
        /// Sessions still selected: waiting for their turn, or on their way.
        public var remaining: Int
        /// Moves begun so far.
        public var moved: Int
        public var started: Date

        /// Seconds until the last waiting session's turn at the job's rate.
        public var etaSeconds: Double {
            rate > 0 ? Double(remaining) / Double(rate) : 0
        }
    }

    private struct Job {
        var id: UInt64
        var progress: Progress
        var task: Task<Void, Never>?
    }

    let owners: SessionOwners
    let logger: Logger
    private let factory: any MetricsFactory
    private let jobs = NIOLockedValueBox<[JobKey: Job]>([:])
    private let nextID = NIOLockedValueBox<UInt64>(0)
    private let waitingGauges = NIOLockedValueBox<[String: Gauge]>([:])
    static let tick: Duration = .milliseconds(10)

    init(owners: SessionOwners, factory: any MetricsFactory, logger: Logger) {
        self.owners = owners
        self.factory = factory
        self.logger = logger
    }

    /// Starts moving the sessions `order` selects at `rate` per second (0: all at once), in place of
    /// any job under the same key. `deadline`: the job speeds up so the last session moves by then.
    /// `limit`: moves at most this many (the excess over a server's share). Returns at once.
    @discardableResult
    func start(
        _ key: JobKey, order: MoveOrder, rate: Int, deadline: ContinuousClock.Instant? = nil, limit: Int? = nil
    ) -> Task<Void, Never> {
        let id = nextID.withLockedValue {
            $0 += 1
            return $0
        }
        let progress = Progress(cause: order.cause, rate: rate, remaining: 0, moved: 0, started: Date())
        // The job is on record before its task runs: a first update that did not find it would end
        // the job at once, its sessions left where they are.
        let replaced = jobs.withLockedValue { jobs in
            defer { jobs[key] = Job(id: id, progress: progress, task: nil) }
            return jobs[key]?.task
        }
        replaced?.cancel()
        let task = Task { [self] in
            await run(key, id: id, order: order, rate: rate, deadline: deadline, limit: limit)
        }
        jobs.withLockedValue { jobs in
            if jobs[key]?.id == id { jobs[key]?.task = task }
        }
        logger.notice(
            "moving sessions",
            metadata: [
                "backend": .string(key.backend), "server": .string(key.server ?? "-"),
                "cause": .string(order.cause.rawValue), "rate": .stringConvertible(rate),
            ])
        return task
    }

    /// The job running for `backend`/`server` (nil server: the backend-wide one), if any.
    public func progress(backend: String, server: String?) -> Progress? {
        jobs.withLockedValue { $0[JobKey(backend: backend, server: server)]?.progress }
    }

    /// Whether no job runs.
    public var isIdle: Bool { jobs.withLockedValue { $0.isEmpty } }

    /// Sessions waiting for their turn in `backend`'s jobs.
    public func waiting(backend: String) -> Int {
        jobs.withLockedValue { Self.remaining(in: $0, backend: backend) }
    }

    /// The sessions still to move in `backend`'s jobs among `jobs`.
    private static func remaining(in jobs: [JobKey: Job], backend: String) -> Int {
        jobs.filter { $0.key.backend == backend }.reduce(0) { $0 + $1.value.progress.remaining }
    }

    /// Stops the job under `key`, if any (the sessions not yet moved stay where they are).
    func cancel(_ key: JobKey) {
        let task = jobs.withLockedValue { jobs in
            defer { jobs[key] = nil }
            return jobs[key]?.task
        }
        task?.cancel()
    }

    /// Stops every job (the sessions not yet moved stay where they are).
    func cancelAll() {
        let tasks = jobs.withLockedValue { jobs in
            defer { jobs.removeAll() }
            return jobs.values.compactMap(\.task)
        }
        for task in tasks { task.cancel() }
    }

    private func run(
        _ key: JobKey, id: UInt64, order: MoveOrder, rate: Int, deadline: ContinuousClock.Instant?, limit: Int?
    ) async {
        let clock = ContinuousClock()
        let origin = clock.now
        var pace = MovePace()
        var moved = 0
        var shares: [Int] = []
        while !Task.isCancelled {
            let now = clock.now
            let rate = effectiveRate(rate, remaining: current(key, id)?.remaining ?? 0, deadline: deadline, now: now)
            let seconds = (now - origin).secondsDouble
            var budget = pace.budget(rate: rate, now: seconds)
            if let limit { budget = min(budget, limit - moved) }
            let (tally, waiting) = await owners.move(order, upTo: budget, sharedBy: shares)
            shares = waiting
            pace.began(tally.started)
            moved += tally.started
            let remaining =
                limit.map { min(tally.waiting, max(0, $0 - moved)) + tally.moving } ?? tally.waiting + tally.moving
            guard update(key, id, remaining: remaining, moved: moved, rate: Int(rate.rounded(.up))) else { return }
            if remaining == 0 { break }
            try? await Task.sleep(for: Self.tick)
        }
        finish(key, id, moved: moved)
    }

    /// `rate`, or faster when the sessions left would not all move before `deadline` at it.
    private func effectiveRate(
        _ rate: Int, remaining: Int, deadline: ContinuousClock.Instant?, now: ContinuousClock.Instant
    )
        -> Double
    {
        guard let deadline, rate > 0 else { return Double(rate) }
        let left = max((deadline - now).secondsDouble, 0.2)
        return max(Double(rate), Double(remaining) / left)
    }

    private func current(_ key: JobKey, _ id: UInt64) -> Progress? {
        jobs.withLockedValue { $0[key].flatMap { $0.id == id ? $0.progress : nil } }
    }

    /// Records how job `id` stands; false when another job took its place.
    private func update(_ key: JobKey, _ id: UInt64, remaining: Int, moved: Int, rate: Int) -> Bool {
        let waiting = jobs.withLockedValue { jobs -> Int? in
            guard var job = jobs[key], job.id == id else { return nil }
            job.progress.remaining = remaining
            job.progress.moved = moved
            job.progress.rate = rate
            jobs[key] = job
            return Self.remaining(in: jobs, backend: key.backend)
        }
        guard let waiting else { return false }
        gauge(for: key.backend).record(waiting)
        return true
    }

    private func finish(_ key: JobKey, _ id: UInt64, moved: Int) {
        let left = jobs.withLockedValue { jobs -> Int? in
            guard jobs[key]?.id == id else { return nil }
            jobs[key] = nil
            return Self.remaining(in: jobs, backend: key.backend)
        }
        guard let left else { return }
        gauge(for: key.backend).record(left)
        logger.notice(
            "sessions moved",
            metadata: [
                "backend": .string(key.backend), "server": .string(key.server ?? "-"),
                "count": .stringConvertible(moved),
            ])
    }

    /// `brokerfront_sessions_waiting_to_move{backend}`.
    private func gauge(for backend: String) -> Gauge {
        waitingGauges.withLockedValue { gauges in
            if let gauge = gauges[backend] { return gauge }
            let gauge = Gauge(
                label: "brokerfront_sessions_waiting_to_move", dimensions: [("backend", backend)], factory: factory)
            gauges[backend] = gauge
            return gauge
        }
    }
}
