import MQTTWire

/// Pure readers of what a server answers to a health check: each says whether enough bytes have
/// arrived and, once they have, the verdict and the message `/status` shows. No I/O.
public enum ProbeReplies {
    /// A verdict: nil while more bytes are needed.
    public typealias Verdict = (ok: Bool, message: String)?

    /// MQTT: the CONNACK to our CONNECT (3.1.1 §3.2). Accepted (0) passes.
    public static func connack(_ bytes: [UInt8]) -> Verdict {
        guard let first = bytes.first else { return nil }
        guard first == MQTTConnAck.fixedHeaderByte else {
            return (false, "not a CONNACK (first byte 0x\(String(first, radix: 16)))")
        }
        guard let ack = MQTTConnAck.parse(bytes) else { return bytes.count >= 64 ? (false, "malformed CONNACK") : nil }
        return (ack.code == 0, "CONNACK \(ack.code) \(connackMeaning(ack.code))")
    }

    static func connackMeaning(_ code: UInt8) -> String {
        switch code {
        case 0: return "accepted"
        case 1: return "unacceptable protocol version"
        case 2: return "identifier rejected"
        case 3: return "server unavailable"
        case 4: return "bad user name or password"
        case 5: return "not authorized"
        case 0x80: return "unspecified error"
        case 0x86: return "bad user name or password"
        case 0x87: return "not authorized"
        case 0x88: return "server unavailable"
        case 0x89: return "server busy"
        case 0x8A: return "banned"
        default: return "refused"
        }
    }

    /// Redis: one complete RESP reply, as text, or nil while incomplete. Handles the simple
    /// (`+OK`), error (`-ERR ...`), integer and bulk (`$N\r\n...\r\n`) forms a check meets.
    public static func respReply(_ bytes: [UInt8]) -> String? {
        guard let lineEnd = firstCRLF(in: bytes, from: 0) else { return nil }
        let header = String(decoding: bytes[0..<lineEnd], as: UTF8.self)
        guard header.first == "$" else { return header }
        guard let length = Int(header.dropFirst()) else { return header }
        if length < 0 { return "" }
        let start = lineEnd + 2
        // Compared without adding to `length`: a server may announce up to Int.max bytes (the probe
        // gives up at 1 MiB received).
        let available = bytes.count - start
        guard available >= 2, length <= available - 2 else { return nil }
        return String(decoding: bytes[start..<(start + length)], as: UTF8.self)
    }

    /// Redis `INFO replication`: passes only on `role:master`.
    public static func redisRole(_ info: String) -> (ok: Bool, message: String) {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("role:") {
            let role = String(line)
            return (role == "role:master", role)
        }
        return (false, "no role in INFO replication")
    }

    /// send-expect: passes once `expect` occurs in what arrived.
    public static func contains(_ bytes: [UInt8], _ expect: [UInt8]) -> Bool {
        guard !expect.isEmpty else { return true }
        guard bytes.count >= expect.count else { return false }
        for start in 0...(bytes.count - expect.count) where bytes[start..<(start + expect.count)].elementsEqual(expect)
        {
            return true
        }
        return false
    }

    static func firstCRLF(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}
