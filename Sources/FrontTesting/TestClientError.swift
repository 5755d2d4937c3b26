/// Why a ``TestClient`` read did not return what was asked for.
public enum TestClientError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The wanted bytes did not arrive in time; carries what had arrived (still buffered).
    case timedOut(received: [UInt8])
    /// The peer closed before the wanted bytes arrived; carries what had arrived (still buffered).
    case closed(received: [UInt8])
    /// Another read was already waiting on this client (reads must not overlap).
    case concurrentRead

    /// One line with the buffered bytes in hex.
    public var description: String {
        switch self {
        case .timedOut(let received): "timed out; \(received.count) bytes buffered: \(Self.hex(received))"
        case .closed(let received): "peer closed; \(received.count) bytes buffered: \(Self.hex(received))"
        case .concurrentRead: "a read is already waiting on this client"
        }
    }

    /// `20 02 00 03`: bytes as a person compares them with a capture (first 64 only).
    public static func hex(_ bytes: [UInt8]) -> String {
        let shown = bytes.prefix(64).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return shown.joined(separator: " ") + (bytes.count > 64 ? " ..." : "")
    }
}
