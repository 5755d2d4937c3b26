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
