import FrontBench
import Testing

@Suite struct BenchValueParsersTests {
    @Test func expandsASourceRangeInOrder() throws {
        let ips = try BenchValueParsers.sourceIPs("127.0.1.1-127.0.1.3,127.0.2.9")
        #expect(ips == ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.2.9"])
    }

    @Test func rangeMaySpanOctets() throws {
        let ips = try BenchValueParsers.sourceIPs("127.0.1.254-127.0.2.1")
        #expect(ips == ["127.0.1.254", "127.0.1.255", "127.0.2.0", "127.0.2.1"])
    }

    @Test(arguments: ["", "127.0.1", "127.0.1.5-127.0.1.1", "127.0.1.1-127.0.1.2-127.0.1.3", "300.0.0.1", "a.b.c.d"])
    func rejectsBadSourceLists(_ text: String) {
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.sourceIPs(text) }
    }

    @Test func parsesEndpoints() throws {
        #expect(try BenchValueParsers.endpoint("127.0.0.1:1883") == BenchEndpoint(host: "127.0.0.1", port: 1883))
        #expect(try BenchValueParsers.endpoint("[::1]:8883") == BenchEndpoint(host: "::1", port: 8883))
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.endpoint("127.0.0.1") }
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.endpoint("host:70000") }
    }

    @Test func parsesDurations() throws {
        #expect(try BenchValueParsers.seconds("250ms") == 0.25)
        #expect(try BenchValueParsers.seconds("5s") == 5)
        #expect(try BenchValueParsers.seconds("2m") == 120)
        #expect(try BenchValueParsers.seconds("1h") == 3_600)
        #expect(try BenchValueParsers.seconds("1.5") == 1.5)
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.seconds("soon") }
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.seconds("-1s") }
    }

    @Test func errorNamesTheValue() {
        #expect(throws: BenchOptionError.invalid(value: "x", expected: "host:port")) {
            try BenchValueParsers.endpoint("x")
        }
    }
}
