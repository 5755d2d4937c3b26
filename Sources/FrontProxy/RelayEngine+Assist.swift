import CEpoll
import FrontCore
import Synchronization

import class NIOConcurrencyHelpers.ConditionLock
import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// What one read-and-write step of a session left to do (``RelayEngine/relayOnce(_:from:through:)``).
enum RelayStep {
    /// Bytes went on (or wait in a backlog), or there was nothing to read.
    case relayed
    /// `side` sent its FIN.
    case ended(side: Int)
    /// `side` failed (reset, broken pipe).
    case failed(side: Int)
}

/// `relay_assist`: a second thread that relays part of a relay thread's large batches.
///
/// One relay thread that stays busy batches well (a wake-up and a `recv`/`send` pair carry many
/// messages), but a burst of sessions that became readable together is relayed one after another:
/// the last waits for all the others. When one `epoll_wait` returns at least ``threshold`` events,
/// the relay thread puts the plain ones (sessions only reading, nothing waiting, past their connect
/// phase, ``RelayedSession/isPlain``, and at least ``minimumAge`` old) in a list, wakes the assist thread, handles the rest itself,
/// and then both take items off the list until it is empty; the relay thread waits for the item the
/// assist thread is on, then carries out what they could not (a FIN, an error). A session is one
/// item, both of its sides together, so no two threads ever touch it at once; each thread reads
/// into its own buffer. An assist thread that is slow to wake costs nothing: the relay thread takes
/// the items it did not get to.
final class RelayAssist: @unchecked Sendable {
    struct Item {
        var session: Unmanaged<RelayedSession>
        /// Bit `side` set: that side (``RelayedSession/client``, ``RelayedSession/server``) is readable.
        var sides: UInt8
    }

    /// What a worker left for the relay thread.
    struct Leftover {
        var session: Unmanaged<RelayedSession>
        var step: RelayStep
    }

    static let defaultThreshold = 8
    /// Sessions younger than this (CLOCK_MONOTONIC ns) stay with the relay thread: in a connect storm
    /// the large batches are of sessions that send a packet or two and end, and sharing those cost
    /// CPU per connect without a gain (measured: +4 %).
    static let minimumAge: UInt64 = 1_000_000_000
    /// Batches with fewer events are relayed by the relay thread alone.
    let threshold: Int
    let items: UnsafeMutablePointer<Item>
    /// The published list: its length << 32 | the next item to take.
    private let claims = Atomic<UInt64>(0)
    /// Items of the published list done (by either thread).
    let finished = Atomic<Int>(0)
    /// Items (sessions of a shared batch) the assist thread relayed, ever.
    let taken = Atomic<Int>(0)
    private let exiting = Atomic<Bool>(false)
    private let signal: UnsafeMutablePointer<sem_t>
    /// The relay thread sleeps on ``joined`` (``waiting`` set) when the assist thread's last item
    /// takes long (the assist thread was preempted): spinning would take CPU from it.
    private let waiting = Atomic<Bool>(false)
    private let joined: UnsafeMutablePointer<sem_t>
    let scratch: UnsafeMutableRawBufferPointer
    /// The assist thread's leftovers while a list is out; the relay thread's once it is done.
    var leftovers: [Leftover] = []
    private let thread = NIOLockedValueBox<pthread_t?>(nil)

    // Relay thread only.
    /// The relay thread's own leftovers, and the events it handles itself, of the current batch.
    var ownLeftovers: [Leftover] = []
    var others: [(data: UInt64, flags: UInt32)] = []
    /// Counts batches, to tell which sessions the current one saw (``RelayedSession/batchMark``).
    var mark: UInt32 = 0

    init(threshold: Int) {
        self.threshold = max(2, threshold)
        items = .allocate(capacity: RelayEngine.batchCapacity)
        signal = .allocate(capacity: 1)
        sem_init(signal, 0, 0)
        joined = .allocate(capacity: 1)
        sem_init(joined, 0, 0)
        scratch = .allocate(byteCount: RelayEngine.scratchSize, alignment: 16)
        ownLeftovers.reserveCapacity(RelayEngine.batchCapacity)
        others.reserveCapacity(RelayEngine.batchCapacity)
        leftovers.reserveCapacity(RelayEngine.batchCapacity)
    }

    deinit {
        items.deallocate()
        sem_destroy(signal)
        signal.deallocate()
        sem_destroy(joined)
        joined.deallocate()
        scratch.deallocate()
    }

    /// Starts the assist thread for `engine`, waits until it runs, and returns what became of the time
    /// slice it asked for.
    func start(name: String, engine: RelayEngine) throws(RelayEngineError) -> RelayEngine.SliceOutcome {
        let running = ConditionLock<Int>(value: 0)
        let slice = NIOLockedValueBox(RelayEngine.SliceOutcome.kernelDefault)
        // The thread holds the engine (and this assist) until it returns.
        let id = try RelayEngine.spawnThread {
            _ = c_epoll_name_thread(name)
            // The relay thread's slice: woken for a batch, it should not wait out another task's.
            let outcome = engine.applySlice()
            slice.withLockedValue { $0 = outcome }
            running.lock()
            running.unlock(withValue: 1)
            self.run(engine)
        }
        thread.withLockedValue { $0 = id }
        running.lock(whenValue: 1)
        running.unlock()
        return slice.withLockedValue { $0 }
    }

    /// Ends the assist thread (after the relay thread ended) and joins it.
    func stop() {
        guard let id = RelayEngine.takeThread(thread) else { return }
        exiting.store(true, ordering: .releasing)
        sem_post(signal)
        pthread_join(id, nil)
    }

    private func run(_ engine: RelayEngine) {
        while true {
            while sem_wait(signal) != 0 && errno == EINTR {}
            if exiting.load(ordering: .acquiring) { return }
            while let index = claim() {
                engine.relay(items[index], through: scratch, leftovers: &leftovers)
                taken.add(1, ordering: .relaxed)
                finished.add(1, ordering: .sequentiallyConsistent)
                if waiting.load(ordering: .sequentiallyConsistent) { sem_post(joined) }
            }
        }
    }

    /// Puts out a list of `count` items (written to ``items`` before) for either thread to take;
    /// wakes the assist thread when `wake`.
    func publish(_ count: Int, wake: Bool) {
        finished.store(0, ordering: .relaxed)
        claims.store(UInt64(count) << 32, ordering: .releasing)
        if wake { sem_post(signal) }
    }

    /// Returns once all `count` items of the published list are done: the assist thread is on one
    /// at most. Spins for up to 20 µs (about two items), then sleeps until the assist thread reports.
    func join(_ count: Int) {
        let start = MonotonicTime.now().nanoseconds
        var spins = 0
        while finished.load(ordering: .acquiring) < count {
            spins += 1
            guard spins & 63 != 0 || MonotonicTime.now().nanoseconds &- start < 20_000 else { break }
        }
        if finished.load(ordering: .acquiring) >= count { return }
        waiting.store(true, ordering: .sequentiallyConsistent)
        // Either this load sees the assist thread's last count, or the assist thread sees `waiting`
        // and posts; a post left over from an earlier list only costs one more look.
        while finished.load(ordering: .sequentiallyConsistent) < count {
            while sem_wait(joined) != 0 && errno == EINTR {}
        }
        waiting.store(false, ordering: .relaxed)
    }

    /// The next item of the published list nobody took yet, taken.
    func claim() -> Int? {
        var current = claims.load(ordering: .acquiring)
        while true {
            let next = current & 0xFFFF_FFFF
            guard next < current >> 32 else { return nil }
            let (exchanged, original) = claims.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return Int(next) }
            current = original
        }
    }
}

extension RelayEngine {
    /// Relays one batch of `events` with the assist thread: plain sessions go on the shared list,
    /// everything else is handled here first, in order. True for the wake-up.
    func relayShared(_ events: UnsafeBufferPointer<epoll_event>, with assist: RelayAssist) -> Bool {
        assist.mark &+= 1
        let mark = assist.mark
        var count = 0
        assist.others.removeAll(keepingCapacity: true)
        for event in events {
            let data = event.data.u64
            let flags = event.events
            guard data != Self.wakeToken, data & (Self.acceptorToken | Self.snifferToken) == 0 else {
                assist.others.append((data, flags))
                continue
            }
            let slot = Int(data >> 1)
            let side = Int(data & 1)
            guard slot < sessions.count, let session = sessions[slot] else { continue }
            let plain = flags == Self.readable && session.isPlain && now &- session.since >= RelayAssist.minimumAge
            if session.batchMark != mark {
                session.batchMark = mark
                if plain {
                    session.batchItem = count
                    assist.items[count] = .init(session: .passUnretained(session), sides: 1 << side)
                    count += 1
                } else {
                    session.batchItem = -1
                    assist.others.append((data, flags))
                }
            } else if session.batchItem >= 0, plain {
                assist.items[session.batchItem].sides |= 1 << side
            } else {
                // Its other side is not plain (a hang-up, an error): this thread takes the session.
                if session.batchItem >= 0 {
                    let item = session.batchItem
                    for other in 0...1 where assist.items[item].sides & (1 << other) != 0 {
                        assist.others.append((UInt64(slot) << 1 | UInt64(other), Self.readable))
                    }
                    assist.items[item].sides = 0
                    session.batchItem = -1
                }
                assist.others.append((data, flags))
            }
        }
        assist.publish(count, wake: count >= assist.threshold)
        var woken = false
        for (data, flags) in assist.others where dispatch(data, flags) { woken = true }
        while let index = assist.claim() {
            relay(assist.items[index], through: scratch, leftovers: &assist.ownLeftovers)
            assist.finished.add(1, ordering: .relaxed)
        }
        // The assist thread finishes the item it is on (if any).
        assist.join(count)
        for leftover in assist.ownLeftovers { apply(leftover.step, to: leftover.session.takeUnretainedValue()) }
        for leftover in assist.leftovers { apply(leftover.step, to: leftover.session.takeUnretainedValue()) }
        assist.ownLeftovers.removeAll(keepingCapacity: true)
        assist.leftovers.removeAll(keepingCapacity: true)
        return woken
    }

    /// Relays the readable sides of one item through `buffer` (either thread); what ends a side is
    /// left for the relay thread, and the item's other side waits for the next batch then.
    func relay(
        _ item: RelayAssist.Item, through buffer: UnsafeMutableRawBufferPointer, leftovers: inout [RelayAssist.Leftover]
    ) {
        let session = item.session.takeUnretainedValue()
        for side in 0...1 where item.sides & (1 << side) != 0 {
            // A backlog toward the other side (from this item's first step) stops reading this one.
            guard session[side ^ 1].backlog.isEmpty, session[side].interest & Self.readable != 0 else { continue }
            let step = relayOnce(session, from: side, through: buffer)
            if case .relayed = step { continue }
            leftovers.append(.init(session: item.session, step: step))
            return
        }
    }
}
