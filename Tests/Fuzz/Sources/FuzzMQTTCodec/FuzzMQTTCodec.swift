import CLibFuzzer
import MQTTWire

/// libFuzzer target for the MQTT codec: every reader of bytes a client or broker sends
/// (`MQTTConnectParser`, `MQTTConnAck.parse`, `MQTTConnAck.serverKeepAlive`, `MQTTVarInt.decode`,
/// `MQTTStreamTracker`). Besides "never traps", it checks what the data path relies on; a broken
/// invariant is a `precondition` failure, which libFuzzer reports as a crash with the input saved.
///
/// SwiftPM names an executable module's entry point `<Module>_main` and links it as `main`; built with
/// `-parse-as-library` there is none, so this function supplies it and hands over to libFuzzer's driver.
@_cdecl("FuzzMQTTCodec_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        MQTTCodecOracle.check(bytes)
        return 0
    }
}

/// The properties checked on each input.
enum MQTTCodecOracle {
    /// `max_connect_size` defaults to 64 KiB; the small limit exercises the early `tooLarge` verdict.
    static let limits = [65_536, 64]

    static func check(_ bytes: [UInt8]) {
        for limit in limits { checkConnect(bytes, limit: limit) }
        checkConnAck(bytes)
        checkStreamTracker(bytes)
        if case .value(let value, let length) = MQTTVarInt.decode(bytes, from: 0) {
            precondition((0...MQTTVarInt.maxValue).contains(value) && (1...MQTTVarInt.maxLength).contains(length))
            let encoded = MQTTVarInt.encode(value)
            precondition(MQTTVarInt.decode(encoded, from: 0) == .value(value, length: encoded.count))
        }
    }

    /// A complete CONNECT lies inside the buffer, re-parses the same from exactly its bytes and from its
    /// re-encoding, and every shorter prefix needs more data; a refused one is answered by a close or a
    /// CONNACK; any verdict other than need-more is final (bytes appended after it change nothing).
    static func checkConnect(_ bytes: [UInt8], limit: Int) {
        let result = MQTTConnectParser.parse(bytes, maxPacketSize: limit)
        switch result {
        case .needMoreData:
            return
        case .complete(let connect, let length):
            precondition(length > 0 && length <= bytes.count && length <= limit, "length \(length)")
            let exact = Array(bytes[0..<length])
            precondition(MQTTConnectParser.parse(exact, maxPacketSize: limit) == result)
            for cut in Set([0, 1, length / 2, length - 1]) where cut < length {
                precondition(
                    MQTTConnectParser.parse(Array(exact[0..<cut]), maxPacketSize: limit) == .needMoreData,
                    "a \(cut)-byte prefix of a complete CONNECT got a verdict")
            }
            let encoded = connect.encode()
            precondition(
                MQTTConnectParser.parse(encoded, maxPacketSize: encoded.count)
                    == .complete(connect, length: encoded.count),
                "the re-encoded CONNECT does not parse back to the same value")
        case .invalid(let error):
            // The answer to a refused CONNECT is a close alone or one whole CONNACK.
            let reply = error.reply(version: MQTTConnectParser.announcedVersion(bytes))
            precondition(reply.isEmpty || MQTTConnAck.parse(reply) != nil, "reply \(reply) is not a CONNACK")
        }
        precondition(
            MQTTConnectParser.parse(bytes + [0x00, 0xFF, 0x10], maxPacketSize: limit) == result,
            "a verdict changed when bytes were appended")
    }

    /// Server Keep Alive reading is final once decided; CONNACK parsing never traps.
    static func checkConnAck(_ bytes: [UInt8]) {
        _ = MQTTConnAck.parse(bytes)
        let keepAlive = MQTTConnAck.serverKeepAlive(bytes)
        if keepAlive != .needMoreData {
            precondition(
                MQTTConnAck.serverKeepAlive(bytes + [0x00, 0xFF]) == keepAlive,
                "a Server Keep Alive verdict changed when bytes were appended")
        }
    }

    /// The relay's packet-boundary tracker ends in the same state however the stream is split.
    static func checkStreamTracker(_ bytes: [UInt8]) {
        var whole = MQTTStreamTracker()
        whole.feed(bytes)
        var chunked = MQTTStreamTracker()
        var index = 0
        var step = 1
        while index < bytes.count {
            let end = min(bytes.count, index + step)
            chunked.feed(Array(bytes[index..<end]))
            index = end
            step = step % 7 + 1
        }
        precondition(whole == chunked, "the stream tracker depends on how the stream was split")
    }
}
