import FrontConfig

@testable import FrontControl

/// Made-up hosts and configurations for the `tune` advisor tests.
enum TuneFixtures {
    /// A host tuned for a million sessions: big limits, the widest port range, room in tcp_mem.
    static let roomyHost = HostFacts(
        nofileSoft: 1 << 21, nofileHard: 1 << 21, nrOpen: 1 << 21, fileMax: 10_000_000,
        portRange: 1024...65535, somaxconn: 4096, tcpMaxSynBacklog: 4096, tcpTwReuse: 1,
        tcpMem: [2_000_000, 3_000_000, 4_000_000], tcpRmem: [4096, 16384, 6_291_456],
        tcpWmem: [4096, 16384, 4_194_304], conntrackMax: nil, memoryTotal: 64 << 30, pageSize: 4096,
        interfaceAddresses: ["127.0.0.1", "::1", "10.0.0.5", "10.0.0.6"], loopbackCoversSlash8: true)

    /// A two-broker cluster dialing from two loopback source IPs, like config/demo.yaml.
    static let demoYAML = """
        max_connections: 9000
        listeners:
          - name: mqtt
            bind: 127.0.0.1:1883
            backend: brokers
        backends:
          - name: brokers
            balance: client-id
            source_ips: [127.0.2.1, 127.0.2.2]
            servers:
              - name: b1
                address: 127.0.0.1:18831
              - name: b2
                address: 127.0.0.1:18832
        """

    /// One remote server and one source IP on a public interface.
    static let oneServerYAML = """
        max_connections: 200000
        listeners:
          - name: mqtt
            bind: 0.0.0.0:1883
            backend: brokers
        backends:
          - name: brokers
            source_ips: [10.0.0.5]
            servers:
              - name: big
                address: 10.1.0.9:1883
        """

    /// Parses and validates `yaml`.
    static func config(_ yaml: String) throws -> FrontConfiguration {
        try ConfigLoader.parse(yaml: yaml, file: "test.yaml")
    }

    /// The advice for `yaml` with `sessions` on `host`.
    static func advise(_ yaml: String, sessions: Int, host: HostFacts) throws -> TuneAdvice {
        TuneAdvisor(configuration: try config(yaml), sessions: sessions, host: host).advise()
    }

    /// The check named `name` (or whose name starts with it).
    static func check(_ advice: TuneAdvice, _ name: String) -> TuneCheck? {
        advice.checks.first { $0.name == name } ?? advice.checks.first { $0.name.hasPrefix(name) }
    }
}
