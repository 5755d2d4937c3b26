import CoreMetrics
import Foundation
import FrontTesting
import MQTTWire
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

@testable import FrontProxy

#if canImport(Glibc)
    import Glibc
#endif

/// `relay_assist` on one relay thread over socket pairs: batches are shared with the assist thread,
/// and every byte still arrives once, in order, both ways, through backlogs, FINs and closes.
@Suite("Relay engine assist", .serialized)
struct RelayEngineAssistTests {
    struct Session: Sendable {
        let client: CInt
        let server: CInt
        let link: RelayLink
    }

    final class Bench {
        let engine: RelayEngine
        let assist: RelayAssist
        var sessions: [Session] = []
        let endings = NIOLockedValueBox<[Int: [CloseReason?]]>([:])

        init(count: Int) throws {
            engine = try RelayEngine(name: "test-assist", assist: true, assistThreshold: 2)
            assist = try #require(engine.assist)
            try engine.start()
            for index in 0..<count {
                let clientPair = try RelayEngineTests.Fixture.socketPair()
                let serverPair = try RelayEngineTests.Fixture.socketPair()
                let link = RelayLink(
                    serverBytesAreActivity: false, bytesIn: Counter(label: "assist_in"),
                    bytesOut: Counter(label: "assist_out")
                ) { [endings] reason in endings.withLockedValue { $0[index, default: []].append(reason) } }
                engine.adopt(client: clientPair.1, server: serverPair.1, link: link, tracker: nil)
                sessions.append(Session(client: clientPair.0, server: serverPair.0, link: link))
            }
        }

        deinit {
            engine.stop()
            for session in sessions {
                Glibc.close(session.client)
                Glibc.close(session.server)
            }
        }
    }

    /// Sessions are shared once they are ``RelayAssist/minimumAge`` old.
    static func waitForMinimumAge() async throws {
        try await Task.sleep(for: .nanoseconds(Int64(RelayAssist.minimumAge)) + .milliseconds(100))
    }

    /// Runs blocking socket I/O on a thread of its own: a test task must not hold one of Swift
    /// Concurrency's threads (two on a 2-core box) while it waits, or every other test stalls.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Sends one message each way on every session (`up`: client to server; `down`: server to client)
    /// and reads them at the far ends: the sessions whose bytes did not arrive as sent.
    static func roundTrip(_ sessions: [Session], round: Int, up: Bool = true, down: Bool = true) async -> [String] {
        await offPool {
            for (index, session) in sessions.enumerated() {
                if up { RelayEngineTests.send(session.client, message(index, round, true)) }
                if down { RelayEngineTests.send(session.server, message(index, round, false)) }
            }
            var problems: [String] = []
            for (index, session) in sessions.enumerated() {
                if up, RelayEngineTests.receive(session.server, count: 16) != message(index, round, true) {
                    problems.append("session \(index) round \(round) up")
                }
                if down, RelayEngineTests.receive(session.client, count: 16) != message(index, round, false) {
                    problems.append("session \(index) round \(round) down")
                }
            }
            return problems
        }
    }

    /// A message that names its session, round and direction.
    static func message(_ index: Int, _ round: Int, _ up: Bool, size: Int = 16) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: index &* 31 &+ round &* 7 &+ (up ? 1 : 2) &+ $0) }
    }

    @Test(
        "60 sessions written both ways in rounds: the assist thread takes part of the batches, and each message arrives whole and in order on its own session"
    )
    func burstsBothWays() async throws {
        let bench = try Bench(count: 60)
        try await Self.waitForMinimumAge()
        var round = 0
        // Rounds until the assist thread has taken items (it does within a few on two cores), at least 10.
        while round < 10 || (bench.assist.taken.load(ordering: .relaxed) == 0 && round < 100) {
            let problems = await Self.roundTrip(bench.sessions, round: round)
            #expect(problems.isEmpty, "\(problems)")
            round += 1
        }
        #expect(bench.assist.taken.load(ordering: .relaxed) > 0, "after \(round) rounds")
        #expect(bench.engine.sessionCount.load(ordering: .relaxed) == 60)
        #expect(bench.endings.withLockedValue { $0.isEmpty })
    }

    @Test(
        "6 sessions each sent 1 MiB toward a server that does not read yet: the rest waits in backlogs, and all of it arrives intact once the servers read"
    )
    func backlogsUnderSharing() async throws {
        let bench = try Bench(count: 6)
        try await Self.waitForMinimumAge()
        let size = 1 << 20
        // Session i's bytes: 0, 1, ... 250 repeated, plus i (cheap to make and to compare in a debug build).
        let payload: @Sendable (Int) -> [UInt8] = { index in
            [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                for offset in 0..<size { buffer[offset] = UInt8(truncatingIfNeeded: offset % 251 + index) }
                count = size
            }
        }
        let sessions = bench.sessions
        let problems = await Self.offPool { () -> [String] in
            let writers = sessions.enumerated().map { index, session in
                let bytes = payload(index)
                let client = session.client
                return Thread { RelayEngineTests.send(client, bytes) }
            }
            for writer in writers { writer.start() }
            // Let the servers' buffers fill so that sends come back short.
            usleep(200_000)
            return sessions.enumerated().compactMap { index, session -> String? in
                let received = RelayEngineTests.receive(session.server, count: size)
                guard received.count == size else { return "session \(index): \(received.count) bytes" }
                let same = received.withUnsafeBytes { got in
                    payload(index).withUnsafeBytes { memcmp(got.baseAddress!, $0.baseAddress!, size) == 0 }
                }
                return same ? nil : "session \(index): bytes differ"
            }
        }
        #expect(problems.isEmpty, "\(problems)")
        #expect(bench.endings.withLockedValue { $0.isEmpty })
    }

    @Test(
        "60 sessions finish at once, a third by the client's FIN, a third by the server's, a third closed outright: each ends once, with who finished first, and nothing is left"
    )
    func endingsUnderSharing() async throws {
        let bench = try Bench(count: 60)
        try await Self.waitForMinimumAge()
        #expect(await Self.roundTrip(bench.sessions, round: 0, down: false).isEmpty)
        let sessions = bench.sessions
        let problems = await Self.offPool { () -> [String] in
            for (index, session) in sessions.enumerated() {
                switch index % 3 {
                case 0: _ = shutdown(session.client, CInt(SHUT_WR))
                case 1: _ = shutdown(session.server, CInt(SHUT_WR))
                default:
                    _ = shutdown(session.client, CInt(SHUT_RDWR))
                    _ = shutdown(session.server, CInt(SHUT_RDWR))
                }
            }
            // The FIN is passed on; then the other side finishes too.
            var problems: [String] = []
            for (index, session) in sessions.enumerated() {
                switch index % 3 {
                case 0:
                    if !RelayEngineTests.seesEOF(session.server) { problems.append("session \(index): no FIN") }
                    _ = shutdown(session.server, CInt(SHUT_WR))
                case 1:
                    if !RelayEngineTests.seesEOF(session.client) { problems.append("session \(index): no FIN") }
                    _ = shutdown(session.client, CInt(SHUT_WR))
                default: break
                }
            }
            return problems
        }
        #expect(problems.isEmpty, "\(problems)")
        _ = await Poll.until(timeout: .seconds(10)) { bench.engine.sessionCount.load(ordering: .relaxed) == 0 }
        #expect(bench.engine.sessionCount.load(ordering: .relaxed) == 0)
        let endings = bench.endings.withLockedValue { $0 }
        for index in 0..<60 {
            let reasons = endings[index] ?? []
            #expect(reasons.count == 1, "session \(index): \(reasons)")
            if index % 3 == 0 { #expect(reasons.first == .clientClosed, "session \(index)") }
            if index % 3 == 1 { #expect(reasons.first == .serverClosed, "session \(index)") }
        }
    }

    @Test("sessions younger than the minimum age stay with the relay thread, however large the batch")
    func youngSessionsStay() async throws {
        let start = ContinuousClock.now
        let bench = try Bench(count: 50)
        for round in 0..<3 {
            let problems = await Self.roundTrip(bench.sessions, round: round, down: false)
            #expect(problems.isEmpty, "\(problems)")
        }
        // All relayed before the sessions were a second old (on a very slow host, nothing to show).
        if ContinuousClock.now - start < .milliseconds(900) {
            #expect(bench.assist.taken.load(ordering: .relaxed) == 0)
        }
    }

    @Test("the assist thread runs beside its relay thread, and stop() ends both")
    func assistThreadLifecycle() throws {
        let names = { () -> [String] in
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        let engine = try RelayEngine(name: "test-lifecycle", assist: true)
        try engine.start()
        #expect(names().contains("test-lifecycl+a"))
        #expect(names().contains("test-lifecycle"))
        engine.stop()
        #expect(!names().contains("test-lifecycl+a"))
        #expect(!names().contains("test-lifecycle"))
    }
}
