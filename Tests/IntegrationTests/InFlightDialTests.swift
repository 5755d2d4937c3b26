import Foundation
import FrontConfig
import FrontCore
import FrontTesting
import MQTTWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A dial still connecting to the active server when traffic moves elsewhere: when it completes,
/// the front checks the failover decision again and closes it unused, on every data path.
@Suite("In-flight dials across a failover")
struct InFlightDialTests {
    /// The data paths a dial can take: each shell's own (an IP literal), and on the relay threads a
    /// server addressed by name (resolved by SwiftNIO, then moved to the relay thread).
    static let paths: [(Shell, Bool)] = [(.relayThreads, false), (.swiftNIO, false), (.relayThreads, true)]

    @Test(
        "a dial to the old active server that completes after a failover is closed without a byte; the client is served by the new active server",
        arguments: paths)
    func dialCompletesAfterFailover(shell: Shell, byName: Bool) async throws {
        let gate = try SlowAcceptListener()
        defer { gate.close() }
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [gate.port, broker.port], balance: .first) { _ in
            } backend: { backend in
                backend.connectTimeout = .seconds(8)
                backend.retries = 1
                if byName { backend.servers[0].address.host = "localhost" }
            }
            shell.apply(to: &config)
            try await withFront(config) { front in
                let backend = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers"))
                let b1 = try #require(backend.server(named: "b1"))
                let client = try await TestClient.connect(
                    port: try front.port(), sending: MQTTConnect(version: .v3_1_1, clientID: "in-flight").encode())
                // The front's dial to b1 waits in SYN retries: the gate's accept queue is full.
                #expect(await Poll.until(timeout: .seconds(5)) { SlowAcceptListener.synSent(toPort: gate.port) })

                // Failover: an operator drains b1; b2 becomes the active server.
                b1.setAdminState(.drain)
                front.runner.proxy.events.adminStateChanged(b1)
                #expect(backend.activeServer(at: .now())?.name == "b2")

                // Room in the queue: the dial's next SYN goes through, about a second later.
                gate.admitOne()
                let connack = try? await client.read(count: 4, timeout: .seconds(8))
                #expect(connack == [0x20, 0x02, 0x00, 0x00], "the client got its CONNACK from b2")
                #expect(broker.clientsConnected().contains { $0.clientID == "in-flight" })
                let sentToOld = await gate.acceptAndRead(timeout: .seconds(5))
                #expect(sentToOld == [], "the old active server got \(sentToOld.map(\.count) ?? -1) bytes")
                #expect(b1.activeConnections == 0)
                await client.close()
            }
        }
    }
}

/// A listener with a full accept queue (backlog 0 and one connection of its own): a dial to it
/// waits in SYN retries until ``admitOne()`` takes that connection off the queue.
final class SlowAcceptListener: Sendable {
    let port: Int
    private let descriptor: Int32
    private let filler: Int32

    init() throws {
        // A port from FreePort (not 0, see SilentListener); another test process may take it between
        // the probe and the bind, so a few are tried.
        guard let fd = (0..<5).lazy.compactMap({ _ in BoundSocket.tcp(port: FreePort.next()) }).first else {
            throw HarnessError("socket/bind: errno \(errno)")
        }
        guard listen(fd, 0) == 0, let port = BoundSocket.localPort(fd) else {
            Glibc.close(fd)
            throw HarnessError("listen: errno \(errno)")
        }
        descriptor = fd
        self.port = port
        filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(filler)
            Glibc.close(fd)
            throw HarnessError("filler connect: errno \(errno)")
        }
    }

    /// Accepts the queued filler and closes it, making room for one dial.
    func admitOne() {
        let accepted = accept(descriptor, nil, nil)
        if accepted >= 0 { Glibc.close(accepted) }
    }

    /// Accepts the next connection (within `timeout`) and reads it to its end: every byte it carried,
    /// or nil when none arrived or it stayed open. Waits with `Task.sleep` between non-blocking
    /// looks, so it never holds a thread of the shared pool.
    func acceptAndRead(timeout: Duration) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        guard await Poll.until(timeout: timeout, { Self.readable(descriptor) }) else { return nil }
        let fd = accept(descriptor, nil, nil)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            guard await Poll.until(timeout: deadline - ContinuousClock.now, { Self.readable(fd) }) else { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return received }
            received += buffer[0..<count]
        }
    }

    /// Whether `fd` has something to accept or read now (poll without waiting).
    private static func readable(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) == 1
    }

    /// Whether a socket on this host is in SYN-SENT toward 127.0.0.1:`port` (from /proc/net/tcp).
    static func synSent(toPort port: Int) -> Bool {
        // procfs reports a size of 0: read to the end rather than by the file's size.
        let fd = open("/proc/net/tcp", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        let table = String(decoding: bytes, as: UTF8.self)
        let remote = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "02"
        }
    }

    func close() {
        Glibc.close(filler)
        Glibc.close(descriptor)
    }
}
