import MQTTWire
import NIOCore
import NIOPosix

/// Why an ``MQTTTestClient`` step failed.
public enum MQTTTestClientError: Error, CustomStringConvertible, Sendable {
    /// The first packet back was not a CONNACK; carries the bytes.
    case notConnAck([UInt8])
    /// The broker refused the subscription (SUBACK code 0x80 or higher).
    case subscriptionRefused(code: UInt8)
    /// A packet's Remaining Length had more than 4 bytes.
    case malformedLength

    /// One line saying what the broker or front sent instead.
    public var description: String {
        switch self {
        case .notConnAck(let bytes): "expected a CONNACK, got \(TestClientError.hex(bytes))"
        case .subscriptionRefused(let code): "SUBACK refused the subscription with code \(code)"
        case .malformedLength: "a packet's Remaining Length ran past 4 bytes"
        }
    }
}

/// A minimal MQTT 3.1.1 / 5.0 client for tests, on a ``TestClient``: CONNECT with MQTTWire's encoder,
/// QoS 0 SUBSCRIBE and PUBLISH, packet-level reads. Thread-safe; reads must not overlap.
public final class MQTTTestClient: Sendable {
    /// The underlying connection, for raw reads and close checks.
    public let connection: TestClient
    /// The protocol version the CONNECT announced.
    public let version: MQTTProtocolVersion

    private init(connection: TestClient, version: MQTTProtocolVersion) {
        self.connection = connection
        self.version = version
    }

    /// Connects, sends a clean-start CONNECT (with `will`, when given) and reads the CONNACK.
    ///
    /// - Returns: the client and the CONNACK return code (3.x) / reason code (5.0); 0 is success. The
    ///   connection stays open whatever the code, so the caller can watch the close.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        clientID: String,
        version: MQTTProtocolVersion = .v3_1_1,
        keepAlive: UInt16 = 60,
        will: MQTTWill? = nil,
        bindTo sourceIP: String? = nil,
        timeout: Duration = .seconds(5)
    ) async throws -> (client: MQTTTestClient, connackCode: UInt8) {
        let connect = MQTTConnect(version: version, keepAlive: keepAlive, clientID: clientID, will: will)
        let connection = try await TestClient.connect(
            host: host, port: port, bindTo: sourceIP, sending: connect.encode(), timeout: timeout)
        let client = MQTTTestClient(connection: connection, version: version)
        do {
            let packet = try await client.readPacket(timeout: timeout)
            guard let connAck = MQTTConnAck.parse(packet.bytes) else {
                throw MQTTTestClientError.notConnAck(packet.bytes)
            }
            return (client, connAck.code)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Reads one whole packet.
    public func readPacket(timeout: Duration) async throws -> MQTTTestPacket {
        let deadline = ContinuousClock.now + timeout
        let header = try await connection.read(count: 1, timeout: timeout)[0]
        var length = 0
        var shift = 0
        for index in 0..<MQTTVarInt.maxLength {
            let byte = try await connection.read(count: 1, timeout: Self.remaining(until: deadline))[0]
            length |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
            if index == MQTTVarInt.maxLength - 1 { throw MQTTTestClientError.malformedLength }
        }
        let body = length == 0 ? [] : try await connection.read(count: length, timeout: Self.remaining(until: deadline))
        return MQTTTestPacket(header: header, body: body)
    }

    /// Subscribes to `topicFilter` at QoS 0 (packet id 1) and waits for the SUBACK.
    ///
    /// - Throws: ``MQTTTestClientError/subscriptionRefused(code:)`` when the broker refuses it.
    public func subscribe(_ topicFilter: String, timeout: Duration = .seconds(5)) async throws {
        try await connection.send(MQTTPacket.subscribe(packetID: 1, topicFilter: topicFilter, version: version))
        let deadline = ContinuousClock.now + timeout
        while true {
            let packet = try await readPacket(timeout: Self.remaining(until: deadline))
            guard let subAck = packet.subAck(version: version) else { continue }
            if let code = subAck.codes.first, code >= 0x80 {
                throw MQTTTestClientError.subscriptionRefused(code: code)
            }
            return
        }
    }

    /// Publishes `payload` to `topic` at QoS 0.
    public func publish(topic: String, payload: [UInt8]) async throws {
        try await connection.send(MQTTPacket.publish(topic: topic, payload: payload, version: version))
    }

    /// The next PUBLISH that arrives (other packets, such as PINGRESP, are skipped).
    ///
    /// - Throws: ``TestClientError/timedOut(received:)`` when none arrives within `timeout`.
    public func nextPublish(timeout: Duration) async throws -> (topic: String, payload: [UInt8]) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let packet = try await readPacket(timeout: Self.remaining(until: deadline))
            if let publish = packet.publish(version: version) { return publish }
        }
    }

    /// Sends PINGREQ (the caller reads the PINGRESP, or not).
    public func ping() async throws {
        try await connection.send(MQTTPacket.pingReq)
    }

    /// Sends DISCONNECT and closes the connection; never throws.
    public func disconnect() async {
        try? await connection.send(MQTTPacket.disconnect)
        await connection.close()
    }

    /// Closes the connection without a DISCONNECT.
    public func close() async {
        await connection.close()
    }

    private static func remaining(until deadline: ContinuousClock.Instant) -> Duration {
        max(.zero, deadline - ContinuousClock.now)
    }
}
