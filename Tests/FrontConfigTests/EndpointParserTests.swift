import Testing

@testable import FrontConfig

@Suite struct EndpointParserTests {
    @Test(arguments: [
        ("0.0.0.0:1883", "0.0.0.0", 1_883),
        ("127.0.0.1:0", "127.0.0.1", 0),
        ("[::]:1883", "::", 1_883),
        ("[::1]:65535", "::1", 65_535),
        ("[fd00::5]:8883", "fd00::5", 8_883),
        ("[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1),
    ])
    func parsesBinds(text: String, host: String, port: Int) throws {
        #expect(try EndpointParser.parseBind(text) == Endpoint(host: host, port: port))
    }

    @Test(arguments: [
        (
            "localhost:1883",
            "`localhost:1883`: a bind needs an IP address, not a host name, e.g. 0.0.0.0:1883 or [::]:1883"
        ),
        ("0.0.0.0", "`0.0.0.0`: missing port; write HOST:PORT, e.g. 0.0.0.0:1883"),
        ("0.0.0.0:", "`0.0.0.0:`: missing port after `:`"),
        ("0.0.0.0:65536", "`0.0.0.0:65536`: port `65536` is out of range; use 0...65535"),
        ("0.0.0.0:http", "`0.0.0.0:http`: port `http` is not a number"),
        ("::1:1883", "`::1:1883`: put IPv6 addresses in brackets, e.g. [::1]:1883"),
        ("[::1]", "`[::1]`: missing port; write e.g. [::1]:1883"),
        ("[::1:1883", "`[::1:1883`: missing `]` after the IPv6 address"),
        ("[127.0.0.1]:1883", "`[127.0.0.1]:1883`: `127.0.0.1` is not an IPv6 address (brackets are for IPv6 only)"),
        ("01.2.3.4:1", "`01.2.3.4:1`: a bind needs an IP address, not a host name, e.g. 0.0.0.0:1883 or [::]:1883"),
        ("", "empty address; write HOST:PORT, e.g. 127.0.0.1:1883"),
    ])
    func refusesBadBinds(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try EndpointParser.parseBind(text) }
    }

    @Test(arguments: [
        ("10.0.0.1:1883", "10.0.0.1", 1_883),
        ("broker-1:1883", "broker-1", 1_883),
        ("mq.example.com.:8883", "mq.example.com.", 8_883),
        ("redis_master.svc:6379", "redis_master.svc", 6_379),
        ("[2001:db8::1]:1883", "2001:db8::1", 1_883),
    ])
    func parsesServers(text: String, host: String, port: Int) throws {
        let endpoint = try EndpointParser.parseServer(text)
        #expect(endpoint == Endpoint(host: host, port: port))
    }

    @Test(arguments: [
        ("10.0.0.1:0", "`10.0.0.1:0`: port `0` is out of range; use 1...65535"),
        ("999.1.1.1:1883", "`999.1.1.1:1883`: `999.1.1.1` is not a valid IPv4 address"),
        ("-bad-.com:1883", "`-bad-.com:1883`: `-bad-.com` is neither an IP address nor a valid host name"),
        ("a..b:1883", "`a..b:1883`: `a..b` is neither an IP address nor a valid host name"),
        ("broker 1:1883", "`broker 1:1883`: `broker 1` is neither an IP address nor a valid host name"),
    ])
    func refusesBadServers(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try EndpointParser.parseServer(text) }
    }

    @Test func sourceIPsMustBeLiterals() throws {
        #expect(try EndpointParser.parseIP("127.0.2.1") == "127.0.2.1")
        #expect(try EndpointParser.parseIP("fd00::1") == "fd00::1")
        for bad in ["10.0.0.1:80", "[::1]", "host", "10.0.0.256"] {
            #expect(throws: ConfigValueError.self) { try EndpointParser.parseIP(bad) }
        }
    }

    @Test func describesWithBracketsForIPv6() {
        #expect(Endpoint(host: "::1", port: 1_883).description == "[::1]:1883")
        #expect(Endpoint(host: "10.0.0.1", port: 1_883).description == "10.0.0.1:1883")
    }
}
