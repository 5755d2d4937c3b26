import Foundation
import FrontCore
import Testing

@testable import FrontProxy

/// The rows of `GET /sessions`.
@Suite("Session rows")
struct SessionInfoTests {
    @Test("a row has every key; what is not known yet (a CONNECT still arriving) is null")
    func nullsWritten() throws {
        let sniffing = SessionInfo(
            client_id: nil, client: "127.0.0.1:5000", listener: "mqtt", backend: nil, server: nil, source: nil,
            age_seconds: 0.4, bytes_in: 5, bytes_out: 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(sniffing)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "client_id", "client", "listener", "backend", "server", "source", "age_seconds", "bytes_in",
                "bytes_out",
            ])
        for key in ["client_id", "backend", "server", "source"] { #expect(object[key] is NSNull, "\(key)") }
        #expect(object["client"] as? String == "127.0.0.1:5000")
        #expect(object["bytes_in"] as? Int == 5)
    }

    @Test("age is rounded to a tenth of a second")
    func ageRounded() {
        let start = MonotonicTime(nanoseconds: 1_000_000_000)
        #expect(SessionInfo.age(from: start, to: MonotonicTime(nanoseconds: 3_260_000_000)) == 2.3)
    }
}
