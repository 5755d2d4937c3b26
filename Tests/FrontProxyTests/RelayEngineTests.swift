import CoreMetrics
import Foundation
import FrontCore
import FrontTesting
import MQTTWire
import NIOPosix
import Synchronization
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

@testable import FrontProxy

#if canImport(Glibc)
    import Glibc
#endif

/// The relay thread on its own, over socket pairs: one pair stands for the client connection, one
/// for the broker's; the test holds the far ends.
@Suite("Relay engine")
struct RelayEngineTests {
    /// A relayed session: the far end of the client socket, of the server socket, and what the engine reported.
    final class Fixture: Sendable {
        let engine: RelayEngine
        let client: CInt
        let server: CInt
        let link: RelayLink
        let endings = NIOLockedValueBox<[CloseReason?]>([])

        init(mqtt: Bool = true) throws {
            engine = try RelayEngine(name: "test-relay")
            try engine.start()
            let clientPair = try Self.socketPair()
            let serverPair = try Self.socketPair()
            client = clientPair.0
            server = serverPair.0
            let endings = self.endings
            link = RelayLink(
                serverBytesAreActivity: !mqtt, bytesIn: Counter(label: "test_in"), bytesOut: Counter(label: "test_out")
            ) { reason in endings.withLockedValue { $0.append(reason) } }
            engine.adopt(
                client: clientPair.1, server: serverPair.1, link: link, tracker: mqtt ? MQTTStreamTracker() : nil)
        }

        deinit {
            Glibc.close(client)
            Glibc.close(server)
        }

        static func socketPair() throws -> (CInt, CInt) {
            var fds: [CInt] = [-1, -1]
            guard socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
                throw RelayEngineError(call: "socketpair", errno: errno)
            }
            // The engine's end is non-blocking, as a SwiftNIO socket is.
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            return (fds[0], fds[1])
        }

        /// Waits (bounded) until the engine reported the end; returns its reason (nil: closed on request).
        func ending(timeout: Duration = .seconds(10)) async -> CloseReason?? {
            await Poll.value(timeout: timeout, interval: .milliseconds(10)) { endings.withLockedValue { $0.first } }
        }
    }

    /// Writes all of `bytes` to a blocking socket.
    static func send(_ fd: CInt, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress.map { $0 + sent }, bytes.count - sent, 0)
            }
            if result <= 0 { return }
            sent += result
        }
    }

    /// Reads `count` bytes, or up to EOF, waiting at most `timeout` for each chunk.
    static func receive(_ fd: CInt, count: Int, timeout: Duration = .seconds(3)) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.count < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, CInt(timeout.components.seconds * 1000)) == 1 else { break }
            let result = buffer.withUnsafeMutableBytes {
                recv(fd, $0.baseAddress, min($0.count, count - received.count), 0)
            }
            if result <= 0 { break }
            received += buffer[0..<result]
        }
        return received
    }

    /// Bytes waiting in `fd`'s receive queue (FIONREAD).
    static func queuedToRead(_ fd: CInt) -> Int {
        var count: CInt = 0
        guard ioctl(fd, UInt(FIONREAD), &count) == 0 else { return 0 }
        return Int(count)
    }

    /// True when the next read sees EOF within the timeout.
    static func seesEOF(_ fd: CInt) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 3000) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    @Test("bytes flow both ways and are counted; the client's DISCONNECT makes it the side that ended")
    func relayBothWays() async throws {
        let fixture = try Fixture()
        Self.send(fixture.client, [0x30, 0x03, 0x00, 0x01, 0x61])  // PUBLISH t="a"
        #expect(Self.receive(fixture.server, count: 5) == [0x30, 0x03, 0x00, 0x01, 0x61])
        Self.send(fixture.server, [0xD0, 0x00])  // PINGRESP
        #expect(Self.receive(fixture.client, count: 2) == [0xD0, 0x00])
        // The broker closes right after the client's DISCONNECT: still the client's doing.
        Self.send(fixture.client, [0xE0, 0x00])
        #expect(Self.receive(fixture.server, count: 2) == [0xE0, 0x00])
        shutdown(fixture.server, CInt(SHUT_WR))
        #expect(Self.seesEOF(fixture.client))
        shutdown(fixture.client, CInt(SHUT_WR))
        #expect(Self.seesEOF(fixture.server))
        #expect(await fixture.ending() == .some(.clientClosed))
        #expect(fixture.link.clientBytes.load(ordering: .relaxed) == 7)
        #expect(fixture.link.serverBytes.load(ordering: .relaxed) == 2)
        #expect(fixture.engine.sessionCount.load(ordering: .relaxed) == 0)
        fixture.engine.stop()
    }

    @Test("the server's FIN is passed on; the client may still send; the server is blamed")
    func serverFinishesFirst() async throws {
        let fixture = try Fixture(mqtt: false)
        shutdown(fixture.server, CInt(SHUT_WR))
        #expect(Self.seesEOF(fixture.client))
        Self.send(fixture.client, Array("late".utf8))
        #expect(Self.receive(fixture.server, count: 4) == Array("late".utf8))
        shutdown(fixture.client, CInt(SHUT_WR))
        #expect(await fixture.ending() == .some(.serverClosed))
        fixture.engine.stop()
    }

    @Test("closed on request: both far ends see EOF and the engine reports nil")
    func closeOnRequest() async throws {
        let fixture = try Fixture()
        fixture.engine.close(fixture.link)
        #expect(await fixture.ending() == .some(nil))
        #expect(Self.seesEOF(fixture.client))
        #expect(Self.seesEOF(fixture.server))
        // A second close of a finished session is ignored: deliberately 50 ms for a second report not to come.
        fixture.engine.close(fixture.link)
        try await Task.sleep(for: .milliseconds(50))
        #expect(fixture.endings.withLockedValue { $0.count } == 1)
        fixture.engine.stop()
    }

    @Test(
        "4 MiB toward a reader that waits: the engine holds at most one read (64 KiB) and stops reading the sender, then everything arrives intact, FIN after the last byte"
    )
    func backpressure() async throws {
        let fixture = try Fixture(mqtt: false)
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let writerDone = NIOLockedValueBox(false)
        let writer = Task.detached {
            Self.send(fixture.client, payload)
            writerDone.withLockedValue { $0 = true }
            shutdown(fixture.client, CInt(SHUT_WR))
        }
        let started = await Poll.until(timeout: .seconds(5)) { fixture.link.clientBytes.load(ordering: .relaxed) > 0 }
        #expect(started)
        // Deliberately 300 ms with nobody reading: the writer must stay blocked, the engine must not
        // read on (nothing to poll for).
        try await Task.sleep(for: .milliseconds(300))
        let read = Int(fixture.link.clientBytes.load(ordering: .relaxed))
        let queued = Self.queuedToRead(fixture.server)
        let writerFinished = writerDone.withLockedValue { $0 }
        #expect(!writerFinished, "the sender was never held back")
        #expect(read < payload.count)
        // What the engine took from the client and has not handed to the server's socket: its one backlog.
        #expect(read - queued <= RelayEngine.scratchSize, "the engine holds \(read - queued) bytes")
        let received = Self.receive(fixture.server, count: payload.count)
        await writer.value
        #expect(received.count == payload.count)
        #expect(received == payload)
        #expect(Self.seesEOF(fixture.server))
        shutdown(fixture.server, CInt(SHUT_WR))
        #expect(await fixture.ending() == .some(.clientClosed))
        #expect(fixture.link.clientBytes.load(ordering: .relaxed) == UInt64(payload.count))
        fixture.engine.stop()
    }

    @Test("stop ends what is left with reason shutdown")
    func stopEndsSessions() async throws {
        let fixture = try Fixture()
        try await Task.sleep(for: .milliseconds(50))
        fixture.engine.stop()
        #expect(await fixture.ending() == .some(.shutdown))
        #expect(Self.seesEOF(fixture.client))
    }

    @Test("the relay thread and its assist thread ask for the time slice; the kernel reports it (Linux >= 6.12)")
    func timeSlice() throws {
        let engine = try RelayEngine(name: "test-slice", slice: .microseconds(250), assist: true)
        let outcome = try engine.start()
        defer { engine.stop() }
        #expect(engine.threadSlices.map(\.thread) == ["test-slice", "test-slice+a"])
        #expect(engine.threadSlices.allSatisfy { $0.outcome == outcome }, "\(engine.threadSlices)")
        guard Self.kernelHasCustomSlices else {
            #expect(outcome == .unsupported || outcome == .applied(.microseconds(250)), "\(outcome)")
            return
        }
        #expect(outcome == .applied(.microseconds(250)))
        // The scheduler's own view, where the kernel exposes it (CONFIG_SCHED_DEBUG).
        if let reported = Self.schedField("se.slice", ofThreadNamed: "test-slice") {
            #expect(reported == 250_000)
        }
        if let reported = Self.schedField("se.slice", ofThreadNamed: "test-slice+a") {
            #expect(reported == 250_000)
        }
        let plain = try RelayEngine(name: "test-noslice")
        #expect(try plain.start() == .kernelDefault)
        plain.stop()
    }

    @Test("/status shows one slice when every thread got it, each thread's when they differ")
    func sliceSummary() {
        typealias Slice = RelayEngine.ThreadSlice
        #expect(RelayEngine.SliceOutcome.summary([]) == nil)
        let same = [
            Slice(thread: "bf-relay-0", outcome: .applied(.microseconds(100))),
            Slice(thread: "bf-relay-0+a", outcome: .applied(.microseconds(100))),
        ]
        #expect(RelayEngine.SliceOutcome.summary(same) == "100us")
        let mixed = same + [Slice(thread: "bf-relay-1", outcome: .unsupported)]
        #expect(
            RelayEngine.SliceOutcome.summary(mixed)
                == "bf-relay-0: 100us; bf-relay-0+a: 100us; bf-relay-1: not supported by this kernel "
                + "(custom slices need Linux 6.12)")
    }

    /// Linux 6.12 brought custom slices for fair tasks (sched_attr.sched_runtime).
    static var kernelHasCustomSlices: Bool {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return false }
        return parts[0] > 6 || (parts[0] == 6 && parts[1] >= 12)
    }

    /// A number from `/proc/self/task/TID/sched` of the thread called `name`; nil when absent.
    static func schedField(_ field: String, ofThreadNamed name: String) -> Int? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        for task in tasks {
            let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            guard comm?.trimmingCharacters(in: .whitespacesAndNewlines) == name,
                let sched = try? String(contentsOfFile: "/proc/self/task/\(task)/sched", encoding: .utf8)
            else { continue }
            for line in sched.split(separator: "\n") where line.hasPrefix(field + " ") {
                return line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            }
        }
        return nil
    }
}
