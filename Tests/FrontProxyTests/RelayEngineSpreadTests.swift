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

/// `relay_spread` on the relay threads alone, over socket pairs: sessions adopted by the first of
/// three engines move to the others once old enough, and a close request sent to the first engine
/// reaches a session wherever it went.
@Suite("Relay engine spread")
struct RelayEngineSpreadTests {
    /// One relayed session: the far ends of its client and server sockets and how often it ended.
    struct Session {
        let client: CInt
        let server: CInt
        let link: RelayLink
    }

    @Test(
        "300 sessions on the first of three threads: old enough, they even out, and back when the first empties; they relay both ways where they are; close requests sent to the first thread while sessions move either way reach them; each ends once, nothing is left"
    )
    func spreadRelayAndClose() async throws {
        let engines = try (0..<3).map { try RelayEngine(name: "test-spread-\($0)", index: $0) }
        for engine in engines { try engine.start() }
        defer { for engine in engines { engine.stop() } }
        for engine in engines { engine.spread(to: engines, after: .milliseconds(100)) }
        let endings = NIOLockedValueBox<[Int: [CloseReason?]]>([:])
        var sessions: [Session] = []
        for index in 0..<300 {
            let clientPair = try RelayEngineTests.Fixture.socketPair()
            let serverPair = try RelayEngineTests.Fixture.socketPair()
            let link = RelayLink(
                serverBytesAreActivity: false, bytesIn: Counter(label: "spread_in"),
                bytesOut: Counter(label: "spread_out")
            ) { reason in endings.withLockedValue { $0[index, default: []].append(reason) } }
            engines[0].adopt(client: clientPair.1, server: serverPair.1, link: link, tracker: MQTTStreamTracker())
            sessions.append(Session(client: clientPair.0, server: serverPair.0, link: link))
        }
        defer {
            for session in sessions {
                Glibc.close(session.client)
                Glibc.close(session.server)
            }
        }
        let counts = { engines.map { $0.sessionCount.load(ordering: .relaxed) } }
        // Even means within n - 1: a thread at its share (the total over three, rounded up) gives nothing.
        #expect(counts().reduce(0, +) == 300)

        // Close 30 sessions through the first engine while the others move: from just before the
        // first look that finds them old enough until after it.
        try await Task.sleep(for: .milliseconds(80))
        for index in stride(from: 0, to: 300, by: 10) {
            engines[0].close(sessions[index].link)
            try await Task.sleep(for: .milliseconds(10))
        }
        let even = await Poll.until(timeout: .seconds(5)) { counts().max()! - counts().min()! <= 2 && counts()[1] > 0 }
        #expect(even, "\(counts())")
        #expect(counts().reduce(0, +) == 270)

        // Every session left relays both ways, whichever thread holds it now.
        for (index, session) in sessions.enumerated() where index % 10 != 0 {
            RelayEngineTests.send(session.client, [0x30, 0x03, 0x00, 0x01, UInt8(index & 0x7F)])
            RelayEngineTests.send(session.server, [0xD0, 0x00])
        }
        for (index, session) in sessions.enumerated() where index % 10 != 0 {
            #expect(
                RelayEngineTests.receive(session.server, count: 5) == [0x30, 0x03, 0x00, 0x01, UInt8(index & 0x7F)])
            #expect(RelayEngineTests.receive(session.client, count: 2) == [0xD0, 0x00])
        }

        // Close everything the first engine holds (through it): the others now hold more than their
        // share and give sessions back to it, while more close requests, sent to the first engine,
        // race those moves.
        var closed = Set(stride(from: 0, to: 300, by: 10))
        for (index, session) in sessions.enumerated() where !closed.contains(index) {
            if session.link.owner.load(ordering: .relaxed) == 0 {
                engines[0].close(session.link)
                closed.insert(index)
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            for _ in 0..<3 {
                let index = Int.random(in: 0..<300, using: &generator)
                if closed.insert(index).inserted { engines[0].close(sessions[index].link) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let rebalanced = await Poll.until(timeout: .seconds(5)) {
            counts()[0] > 0 && counts().max()! - counts().min()! <= 2
        }
        #expect(rebalanced, "\(counts())")
        #expect(counts().reduce(0, +) == 300 - closed.count)

        // The rest: half closed on request through the first engine, half by their client.
        for (index, session) in sessions.enumerated() where !closed.contains(index) {
            if index % 2 == 0 {
                closed.insert(index)
                engines[0].close(session.link)
            } else {
                RelayEngineTests.send(session.client, [0xE0, 0x00])
                shutdown(session.client, CInt(SHUT_WR))
                shutdown(session.server, CInt(SHUT_WR))
            }
        }
        let allEnded = await Poll.until(timeout: .seconds(10)) { endings.withLockedValue { $0.count } == 300 }
        #expect(allEnded, "\(endings.withLockedValue { $0.count }) ended; \(counts())")
        // Deliberately 300 ms after the last end: no session may be reported ended a second time.
        try await Task.sleep(for: .milliseconds(300))
        let ends = endings.withLockedValue { $0 }
        #expect(ends.values.allSatisfy { $0.count == 1 }, "a session ended twice")
        for index in 0..<300 {
            let expected: CloseReason? = closed.contains(index) ? nil : .clientClosed
            #expect(ends[index]?.first == .some(expected), "session \(index): \(String(describing: ends[index]))")
        }
        #expect(counts() == [0, 0, 0])
        // Closed on request: the far ends see the engine's close.
        for (index, session) in sessions.enumerated() where closed.contains(index) {
            #expect(RelayEngineTests.seesEOF(session.client), "session \(index)")
        }
    }
}
