import CoreMetrics
import Foundation
import MQTTWire
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

@testable import FrontProxy

#if canImport(Glibc)
    import Glibc
#endif

/// `relay_assist` on one relay thread over socket pairs: batches are shared with the assist thread,
/// and every byte still arrives once, in order, both ways, through backlogs, FINs and closes.
@Suite("Relay engine assist")
struct RelayEngineAssistTests {
    struct Session {
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

    /// A message that names its session, round and direction.
    static func message(_ index: Int, _ round: Int, _ up: Bool, size: Int = 16) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: index &* 31 &+ round &* 7 &+ (up ? 1 : 2) &+ $0) }
    }

    @Test(
        "200 sessions written both ways in rounds: the assist thread takes part of the batches, and each message arrives whole and in order on its own session"
    )
    func burstsBothWays() async throws {
        let bench = try Bench(count: 200)
        try await Self.waitForMinimumAge()
        var round = 0
        // Rounds until the assist thread has taken items (it does within a few on two cores), at least 10.
        while round < 10 || (bench.assist.taken.load(ordering: .relaxed) == 0 && round < 300) {
            for (index, session) in bench.sessions.enumerated() {
                RelayEngineTests.send(session.client, Self.message(index, round, true))
                RelayEngineTests.send(session.server, Self.message(index, round, false))
            }
            for (index, session) in bench.sessions.enumerated() {
                #expect(RelayEngineTests.receive(session.server, count: 16) == Self.message(index, round, true))
                #expect(RelayEngineTests.receive(session.client, count: 16) == Self.message(index, round, false))
            }
            round += 1
        }
        #expect(bench.assist.taken.load(ordering: .relaxed) > 0, "after \(round) rounds")
        #expect(bench.engine.sessionCount.load(ordering: .relaxed) == 200)
        #expect(bench.endings.withLockedValue { $0.isEmpty })
    }

    @Test(
        "40 sessions each sent 256 KiB toward a server that does not read yet: the rest waits in backlogs, and all of it arrives intact once the servers read"
    )
    func backlogsUnderSharing() async throws {
        let bench = try Bench(count: 40)
        try await Self.waitForMinimumAge()
        let size = 256 * 1024
        let writers = bench.sessions.enumerated().map { index, session in
            let bytes = Self.message(index, 0, true, size: size)
            let client = session.client
            return Thread { RelayEngineTests.send(client, bytes) }
        }
        for writer in writers { writer.start() }
        // Let the servers' buffers fill so that sends come back short.
        try await Task.sleep(for: .milliseconds(200))
        for (index, session) in bench.sessions.enumerated() {
            let received = RelayEngineTests.receive(session.server, count: size)
            #expect(received.count == size, "session \(index)")
            #expect(received == Self.message(index, 0, true, size: size), "session \(index)")
        }
        #expect(bench.endings.withLockedValue { $0.isEmpty })
    }

    @Test(
        "120 sessions finish at once, a third by the client's FIN, a third by the server's, a third closed outright: each ends once, with who finished first, and nothing is left"
    )
    func endingsUnderSharing() async throws {
        let bench = try Bench(count: 120)
        try await Self.waitForMinimumAge()
        for (index, session) in bench.sessions.enumerated() {
            RelayEngineTests.send(session.client, Self.message(index, 0, true))
        }
        for (index, session) in bench.sessions.enumerated() {
            #expect(RelayEngineTests.receive(session.server, count: 16) == Self.message(index, 0, true))
        }
        for (index, session) in bench.sessions.enumerated() {
            switch index % 3 {
            case 0: _ = shutdown(session.client, CInt(SHUT_WR))
            case 1: _ = shutdown(session.server, CInt(SHUT_WR))
            default:
                _ = shutdown(session.client, CInt(SHUT_RDWR))
                _ = shutdown(session.server, CInt(SHUT_RDWR))
            }
        }
        // The FIN is passed on; then the other side finishes too.
        for (index, session) in bench.sessions.enumerated() {
            switch index % 3 {
            case 0:
                #expect(RelayEngineTests.seesEOF(session.server), "session \(index)")
                _ = shutdown(session.server, CInt(SHUT_WR))
            case 1:
                #expect(RelayEngineTests.seesEOF(session.client), "session \(index)")
                _ = shutdown(session.client, CInt(SHUT_WR))
            default: break
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while bench.engine.sessionCount.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(bench.engine.sessionCount.load(ordering: .relaxed) == 0)
        let endings = bench.endings.withLockedValue { $0 }
        for index in 0..<120 {
            let reasons = endings[index] ?? []
            #expect(reasons.count == 1, "session \(index): \(reasons)")
            if index % 3 == 0 { #expect(reasons.first == .clientClosed, "session \(index)") }
            if index % 3 == 1 { #expect(reasons.first == .serverClosed, "session \(index)") }
        }
    }

    @Test("sessions younger than the minimum age stay with the relay thread, however large the batch")
    func youngSessionsStay() async throws {
        let start = ContinuousClock.now
        let bench = try Bench(count: 100)
        // Rounds for 400 ms (at least one): all relayed well before the sessions are a second old.
        var round = 0
        while round == 0 || ContinuousClock.now - start < .milliseconds(400) {
            defer { round += 1 }
            for (index, session) in bench.sessions.enumerated() {
                RelayEngineTests.send(session.client, Self.message(index, round, true))
            }
            for (index, session) in bench.sessions.enumerated() {
                #expect(RelayEngineTests.receive(session.server, count: 16) == Self.message(index, round, true))
            }
        }
        #expect(bench.assist.taken.load(ordering: .relaxed) == 0)
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
