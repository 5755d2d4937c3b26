import Foundation
import FrontConfig
import Logging
import Testing

@testable import FrontControl

@Suite("Log lines")
struct FrontLogHandlerTests {
    let metadata: Logger.Metadata = [
        "reason": "client_closed", "bytes_out": "11", "listener": "mqtt", "client": "127.0.0.1:5000",
        "client_id": "dev 1", "backend": "brokers", "server": "b1", "source": "127.0.2.1", "duration": "2ms",
        "bytes_in": "36", "extra": "x",
    ]
    let time = Date(timeIntervalSince1970: 0)

    @Test("text: the session fields in INTERFACE.md order, values with spaces quoted, other keys after")
    func text() {
        let line = FrontLogHandler.render(
            level: .info, message: "session closed", metadata: metadata, format: .text, time: time)
        #expect(
            line.hasSuffix(
                "info session closed listener=mqtt client=127.0.0.1:5000 client_id=\"dev 1\" backend=brokers"
                    + " server=b1 source=127.0.2.1 duration=2ms bytes_in=36 bytes_out=11 reason=client_closed extra=x"),
            "\(line)")
    }

    @Test("json: one object per line with the same fields, escaped; counts are numbers")
    func json() throws {
        var fields = metadata
        fields["client_id"] = "quote\" and \\ and \n"
        // As the session line gives them: counts as integers, the rest as text.
        fields["bytes_in"] = .stringConvertible(36)
        fields["bytes_out"] = .stringConvertible(UInt64(11))
        let line = FrontLogHandler.render(
            level: .info, message: "session closed", metadata: fields, format: .json, time: time)
        #expect(!line.contains("\n"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(object["message"] as? String == "session closed")
        #expect(object["level"] as? String == "info")
        #expect(object["client_id"] as? String == "quote\" and \\ and \n")
        #expect(object["reason"] as? String == "client_closed")
        #expect(object["duration"] as? String == "2ms")
        #expect(object["bytes_in"] as? Int == 36)
        #expect(object["bytes_out"] as? Int == 11)
        #expect(line.contains("\"bytes_in\":36,\"bytes_out\":11,"), "\(line)")
    }

    @Test("handlers follow their shared settings (a reload), unless a logger set its own level")
    func sharedSettings() {
        let settings = LogSettings(LogConfig(level: .notice, format: .text))
        var handler = FrontLogHandler(label: "t", settings: settings)
        let other = FrontLogHandler(label: "u", settings: settings)
        #expect(handler.logLevel == .notice && other.logLevel == .notice)
        settings.apply(LogConfig(level: .debug, format: .json))
        #expect(handler.logLevel == .debug && other.logLevel == .debug)
        #expect(settings.config == LogConfig(level: .debug, format: .json))
        handler.logLevel = .error
        settings.apply(LogConfig(level: .trace, format: .text))
        #expect(handler.logLevel == .error)
        #expect(other.logLevel == .trace)
    }

    @Test(
        "the message is escaped like metadata: C0 and C1 controls, U+0085, U+2028 and U+2029 never reach the line as themselves"
    )
    func messageEscaped() throws {
        let message = "config problem\nforged line\u{2028}a\u{85}b\u{9B}c\u{2029}d\u{7F}"
        let controls: (Unicode.Scalar) -> Bool = {
            $0.value < 0x20 || (0x7f...0x9f).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029
        }
        let text = FrontLogHandler.render(
            level: .error, message: message, metadata: ["path": "x\u{2028}y\u{85}"], format: .text, time: time)
        #expect(!text.unicodeScalars.contains(where: controls), "\(text.debugDescription)")
        #expect(
            text.contains("error config problem\\nforged line\\u2028a\\u0085b\\u009bc\\u2029d\\u007f path="),
            "\(text)")
        #expect(text.hasSuffix("path=\"x\\u2028y\\u0085\""), "\(text)")

        let json = FrontLogHandler.render(
            level: .error, message: message, metadata: ["path": "x\u{2028}y"], format: .json, time: time)
        #expect(!json.unicodeScalars.contains(where: controls), "\(json.debugDescription)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["message"] as? String == message)
        #expect(object["path"] as? String == "x\u{2028}y")
    }

    @Test("a client id longer than 256 bytes is logged cut at a character boundary, with its full length")
    func longClientIDCut() throws {
        let long = String(repeating: "é", count: 30_000)  // 60,000 bytes
        var fields = metadata
        fields["client_id"] = .string(long)
        let text = FrontLogHandler.render(
            level: .info, message: "session closed", metadata: fields, format: .text, time: time)
        #expect(text.utf8.count < 600, "\(text.utf8.count) bytes")
        #expect(text.contains("client_id=\"\(String(repeating: "é", count: 128))…(60000 bytes)\" "), "\(text)")
        let json = FrontLogHandler.render(
            level: .info, message: "session closed", metadata: fields, format: .json, time: time)
        #expect(json.utf8.count < 600, "\(json.utf8.count) bytes")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["client_id"] as? String == String(repeating: "é", count: 128) + "…(60000 bytes)")
        // A short one, and other keys, are left alone.
        fields["client_id"] = "dev-1"
        fields["extra"] = .string(String(repeating: "x", count: 300))
        let short = FrontLogHandler.render(
            level: .info, message: "session closed", metadata: fields, format: .text, time: time)
        #expect(short.contains("client_id=dev-1 "))
        #expect(short.hasSuffix("extra=" + String(repeating: "x", count: 300)))
    }
}
