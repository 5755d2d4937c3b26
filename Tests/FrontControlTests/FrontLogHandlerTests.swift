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
}
