import Foundation
import FrontConfig
import FrontTesting
import MQTTWire
import Testing

import enum FrontBench.WindowPeak
import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// What the tests of moved sessions share: the admin requests, a watcher of Will messages on the
/// brokers themselves, and clients that reconnect when they are moved.
enum MoveSupport {
    /// `POST path` on the admin plane with a JSON body (or none); the answer.
    static func post(_ front: RunningFront, _ path: String, _ body: String? = nil) async throws -> HTTPTestResponse {
        let adminPort = try #require(front.runner.adminPort)
        return try await HTTPTestClient.request(method: "POST", port: adminPort, path: path, body: body)
    }

    /// Sets a server's admin state (`drain`, `maint`, `ready`).
    static func setState(_ front: RunningFront, _ server: String, _ state: String) async throws {
        let answer = try await post(front, "/backends/brokers/servers/\(server)/state", #"{"state":"\#(state)"}"#)
        #expect(answer.status == 200, "\(answer.body)")
    }

    /// A Will on `will/<id>`, published by the broker when the session ends without DISCONNECT.
    static func will(_ id: String) -> MQTTWill {
        MQTTWill(topic: "will/\(id)", payload: Array("gone".utf8))
    }

    /// Connects `ids` through the front on `port`, `parallel` at a time; every CONNACK must be 0.
    static func connectAll(
        _ ids: [String], port: Int, version: MQTTProtocolVersion = .v3_1_1, parallel: Int = 50
    ) async throws -> [String: MQTTTestClient] {
        var clients: [String: MQTTTestClient] = [:]
        for start in stride(from: 0, to: ids.count, by: parallel) {
            let batch = ids[start..<min(start + parallel, ids.count)]
            try await withThrowingTaskGroup(of: (String, MQTTTestClient, UInt8).self) { group in
                for id in batch {
                    group.addTask {
                        let (client, code) = try await MQTTTestClient.connect(
                            port: port, clientID: id, version: version, will: will(id), timeout: .seconds(10))
                        return (id, client, code)
                    }
                }
                for try await (id, client, code) in group {
                    #expect(code == 0, "\(id) got CONNACK \(code)")
                    clients[id] = client
                }
            }
        }
        return clients
    }

    /// A subscriber that reads slowly, in Python: connects to `port` (3.1.1, a Will on `will/<id>`,
    /// a 4 KiB receive buffer), subscribes to `big/#`, prints READY, then reads nothing until the
    /// file `marker` exists; then reads to the end and prints each packet (`PACKET type length`),
    /// `PARTIAL` for a packet cut short, and `EOF`.
    static let slowSubscriberScript = """
        import os, socket, struct, sys, time
        port, cid, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        def packet(kind, body):
            n, length = len(body), b""
            while True:
                n, byte = n // 128, n % 128
                length += bytes([byte | (0x80 if n else 0)])
                if not n:
                    return bytes([kind]) + length + body
        def text(value):
            return struct.pack("!H", len(value)) + value.encode()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        connect = text("MQTT") + bytes([4, 0x06, 0, 60]) + text(cid) + text("will/" + cid) + text("gone")
        s.sendall(packet(0x10, connect) + packet(0x82, struct.pack("!H", 1) + text("big/#") + bytes([0])))
        answers = b""
        while len(answers) < 9:
            chunk = s.recv(9 - len(answers))
            if not chunk:
                sys.exit("closed before CONNACK and SUBACK")
            answers += chunk
        print("READY", flush=True)
        while not os.path.exists(marker):
            time.sleep(0.02)
        s.settimeout(10)
        data = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        at = 0
        while at < len(data):
            kind, length, shift, at = data[at] >> 4, 0, 0, at + 1
            while at < len(data):
                length |= (data[at] & 0x7F) << shift
                shift, at = shift + 7, at + 1
                if not data[at - 1] & 0x80:
                    break
            if at + length > len(data):
                print("PARTIAL", kind, length, len(data) - at, flush=True)
                break
            print("PACKET", kind, length, flush=True)
            at += length
        print("EOF", flush=True)
        """

    /// The largest number of `times` (seconds, any order) inside any window of `width` seconds.
    static func busiestWindow(_ times: [Double], width: Double) -> Int {
        WindowPeak.count(
            of: times.map { UInt64(max($0, 0) * 1e9) }, from: 0, windowNanos: UInt64(width * 1e9))
    }
}

/// Subscribes to `will/#` on each broker directly (not through the front) and keeps the topics of
/// the Will messages they publish.
final class WillWatcher: Sendable {
    private let clients: [MQTTTestClient]
    private let topics = NIOLockedValueBox<[String]>([])
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])

    private init(clients: [MQTTTestClient]) {
        self.clients = clients
    }

    static func start(_ brokers: [MosquittoProcess]) async throws -> WillWatcher {
        var clients: [MQTTTestClient] = []
        for (index, broker) in brokers.enumerated() {
            let (client, code) = try await MQTTTestClient.connect(port: broker.port, clientID: "will-watcher-\(index)")
            #expect(code == 0)
            try await client.subscribe("will/#")
            clients.append(client)
        }
        let watcher = WillWatcher(clients: clients)
        for client in clients {
            let task = Task {
                while !Task.isCancelled {
                    guard let publish = try? await client.nextPublish(timeout: .seconds(1)) else { continue }
                    watcher.topics.withLockedValue { $0.append(publish.topic) }
                }
            }
            watcher.tasks.withLockedValue { $0.append(task) }
        }
        return watcher
    }

    /// The Will topics seen so far.
    var seen: [String] { topics.withLockedValue { $0 } }

    func stop() async {
        for task in tasks.withLockedValue({ $0 }) { task.cancel() }
        for client in clients { await client.close() }
    }
}
