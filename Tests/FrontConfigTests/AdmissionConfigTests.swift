import Testing

@testable import FrontConfig

/// `accept_proxy_protocol` with trusted senders, `limits.max_pending_connect_bytes`, and the CIDR
/// matching behind the first.
@Suite("Admission settings")
struct AdmissionConfigTests {
    private func listener(_ lines: String) -> String {
        """
        listeners:
          - name: m
            bind: 127.0.0.1:0
            backend: b
        \(lines)
        backends:
          - name: b
            servers:
              - address: 127.0.0.1:1883

        """
    }

    @Test("accept_proxy_protocol: true and false still read as before, with no trusted list")
    func booleanForms() {
        let on = parseValid(listener("    accept_proxy_protocol: true"))
        #expect(on?.listeners.first?.acceptProxyProtocol == true)
        #expect(on?.listeners.first?.trustedProxies == [])
        #expect(on?.listeners.first?.trustsProxy("203.0.113.9") == true)
        let off = parseValid(listener("    accept_proxy_protocol: false"))
        #expect(off?.listeners.first?.acceptProxyProtocol == false)
    }

    @Test("accept_proxy_protocol: {trusted: [...]} turns it on for those networks only")
    func trustedForm() {
        let config = parseValid(listener("    accept_proxy_protocol: {trusted: [10.0.0.0/8, 127.0.0.1/32, \"::1\"]}"))
        let listener = config?.listeners.first
        #expect(listener?.acceptProxyProtocol == true)
        #expect(listener?.trustedProxies.map(\.description) == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"])
        #expect(listener?.trustsProxy("10.200.3.4") == true)
        #expect(listener?.trustsProxy("127.0.0.1") == true)
        #expect(listener?.trustsProxy("::ffff:127.0.0.1") == true)
        #expect(listener?.trustsProxy("::1") == true)
        #expect(listener?.trustsProxy("127.0.0.2") == false)
        #expect(listener?.trustsProxy("11.0.0.1") == false)
    }

    @Test("a bad network, an empty list, a missing or unknown key are reported where written")
    func trustedErrors() {
        #expect(
            checkLines(listener("    accept_proxy_protocol: {trusted: [10.0.0.0/8, 10.0.0.0/33, nope]}")) == [
                "front.yaml:5:51: listeners[0].accept_proxy_protocol.trusted[1]: `10.0.0.0/33` is not an IP network; write it as 10.0.0.0/8, 127.0.0.1 or ::1/128",
                "front.yaml:5:64: listeners[0].accept_proxy_protocol.trusted[2]: `nope` is not an IP network; write it as 10.0.0.0/8, 127.0.0.1 or ::1/128",
            ])
        #expect(
            checkLines(listener("    accept_proxy_protocol: {trusted: []}")) == [
                "front.yaml:5:38: listeners[0].accept_proxy_protocol.trusted: list at least one network, or write `accept_proxy_protocol: true`"
            ])
        #expect(
            checkLines(listener("    accept_proxy_protocol: {trustd: [10.0.0.0/8]}")) == [
                "front.yaml:5:28: listeners[0].accept_proxy_protocol.trusted: missing required key `trusted`",
                "front.yaml:5:29: listeners[0].accept_proxy_protocol.trustd: unknown key `trustd`; did you mean `trusted`?",
            ])
    }

    @Test("CIDR matching: prefixes, host bits, IPv6, IPv4-mapped peers")
    func matching() throws {
        let net = try #require(IPNetwork("192.168.4.7/22"))
        #expect(net.description == "192.168.4.0/22")
        #expect(net.contains("192.168.7.255"))
        #expect(!net.contains("192.168.8.0"))
        #expect(net.contains("::ffff:192.168.5.1"))
        #expect(!net.contains("not an ip"))
        let any = try #require(IPNetwork("0.0.0.0/0"))
        #expect(any.contains("8.8.8.8") && !any.contains("::1"))
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains("2001:db8:ffff::1") && !v6.contains("2001:db9::1") && !v6.contains("10.0.0.1"))
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "::1/129", "", "/8", "10.0.0.0/8/8"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test("max_pending_connect_bytes: 64MiB unless written; a size; never below max_connect_size")
    func pendingConnectBytes() {
        #expect(parseValid(minimalYAML)?.listeners.first?.limits.maxPendingConnectBytes == 64 << 20)
        let set = parseValid(listener("    limits:\n      max_pending_connect_bytes: 1MiB"))
        #expect(set?.listeners.first?.limits.maxPendingConnectBytes == 1 << 20)
        #expect(
            checkLines(listener("    max_connect_size: 64KiB\n    limits:\n      max_pending_connect_bytes: 16KiB"))
                == [
                    "front.yaml:7:34: listeners[0].limits.max_pending_connect_bytes: max_pending_connect_bytes (16384) is smaller than max_connect_size (65536): no CONNECT of that size could ever arrive"
                ])
        #expect(
            checkLines(listener("    max_connect_size: 16MiB\n    limits:\n      max_pending_connect_bytes: 2TiB"))
                .count == 1)
    }

    @Test(
        "check's worst case before CONNECTs: the budget, not max_connections × max_connect_size, plus the connections")
    func worstCase() throws {
        let config = try #require(parseValid(minimalYAML))
        let estimates = ConnectMemoryEstimate.of(config)
        #expect(estimates.count == 1)
        let estimate = try #require(estimates.first)
        #expect(estimate.connections == 100_000)
        #expect(estimate.connectBytes == 64 << 20)
        #expect(estimate.unboundedConnectBytes == 100_000 * 65_536)
        #expect(estimate.overheadBytes == 100_000 * 12_288)
        #expect(
            estimate.line
                == "listeners[0] (m): before their CONNECT is whole, 100000 connections cost at most 1.2 GiB: "
                + "64 MiB of CONNECT bytes (max_pending_connect_bytes; 6.1 GiB without it) + about 1.1 GiB for the "
                + "connections themselves (~12 KiB each)")
        // A listener cap below the process's, and a small CONNECT size: the smaller product wins.
        var small = config
        small.listeners[0].maxConnections = 100
        small.listeners[0].maxConnectSize = 1_024
        let capped = try #require(ConnectMemoryEstimate.of(small).first)
        #expect(capped.connections == 100 && capped.connectBytes == 102_400)
        // tcp listeners read no CONNECT.
        small.listeners[0].protocol = .tcp
        #expect(ConnectMemoryEstimate.of(small).isEmpty)
    }
}
