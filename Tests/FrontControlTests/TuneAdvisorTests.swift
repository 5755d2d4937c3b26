import FrontConfig
import Testing

@testable import FrontControl

@Suite("tune advisor: made-up hosts")
struct TuneAdvisorTests {
    @Test("a tuned host passes every check and exits 0")
    func tunedHostPasses() throws {
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: 9000,
            host: TuneFixtures.roomyHost
        ).advise()
        #expect(advice.checks.allSatisfy { $0.status == .ok }, "\(advice.checks.filter { $0.status != .ok })")
        #expect(advice.exitCode == 0)
        #expect(advice.checks.count == 13)
        let ports = try #require(TuneFixtures.check(advice, "ports 127.0.0.1:18831"))
        #expect(ports.found.contains("2,250 sessions per source IP (2 source IPs)"))
        #expect(advice.recommendation.nofile == 1 << 21)
        #expect(advice.recommendation.portRange == 1024...65535)
        #expect(advice.recommendation.tcpMem == nil)
    }

    @Test("a 1024 descriptor limit fails nofile and says how many sessions fit")
    func lowDescriptorLimitFails() throws {
        var host = TuneFixtures.roomyHost
        host.nofileSoft = 1024
        host.nofileHard = 1024
        host.nrOpen = 1024
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: 9000, host: host
        ).advise()
        let nofile = try #require(TuneFixtures.check(advice, "nofile"))
        #expect(nofile.status == .fail)
        #expect(nofile.needed.contains("18,064"))
        #expect(nofile.needed.contains("480 fit"))
        #expect(TuneFixtures.check(advice, "fs.nr_open")?.status == .fail)
        #expect(advice.exitCode == 3)
        #expect(advice.recommendation.nofile == 1_048_576)
        #expect(advice.recommendation.nrOpen == 1_048_576)
    }

    @Test("a soft limit below the need passes when the hard limit covers it (run raises it)")
    func softLimitIsRaisedAtStart() throws {
        var host = TuneFixtures.roomyHost
        host.nofileSoft = 1024
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: 9000, host: host
        ).advise()
        let nofile = try #require(TuneFixtures.check(advice, "nofile"))
        #expect(nofile.status == .ok)
        #expect(nofile.needed.contains("raises the soft limit"))
    }

    @Test("200k sessions to one server from one source IP over a small port range fail, with the way out")
    func smallPortRangeOneSourceIPFails() throws {
        var host = TuneFixtures.roomyHost
        host.portRange = 60000...60999
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.oneServerYAML), sessions: 200_000, host: host
        ).advise()
        let ports = try #require(TuneFixtures.check(advice, "ports 10.1.0.9:1883"))
        #expect(ports.status == .fail)
        #expect(ports.name == "ports 10.1.0.9:1883 (brokers/big)")
        #expect(ports.found.contains("200,000 sessions per source IP (1 source IP) over 1,000 ports 60000-60999"))
        // 200,000 / (1,000 x 0.8) = 250 source IPs here, or 4 with the widest range (64,512 x 0.8 = 51,609 each).
        #expect(ports.needed.contains("250 source IPs"))
        #expect(ports.needed.contains("or 4 with ip_local_port_range 1024 65535"))
        #expect(advice.exitCode == 3)
        #expect(advice.recommendation.portRange == 1024...65535)
        #expect(TuneFixtures.check(advice, "source_ips")?.status == .ok)
    }

    @Test("with source_ports the front's own range counts, not ip_local_port_range, and the advice says so")
    func sourcePortsRangeCounts() throws {
        var host = TuneFixtures.roomyHost
        host.portRange = 60000...60999
        let yaml = TuneFixtures.oneServerYAML.replacingOccurrences(
            of: "source_ips: [10.0.0.5]", with: "source_ips: [10.0.0.5, 10.0.0.6]\n    source_ports: 2000-61999")
        let fits = TuneAdvisor(configuration: try TuneFixtures.config(yaml), sessions: 90_000, host: host).advise()
        let ports = try #require(TuneFixtures.check(fits, "ports 10.1.0.9:1883"))
        #expect(ports.status == .ok, "\(ports)")
        #expect(
            ports.found.contains(
                "45,000 sessions per source IP (2 source IPs) over 60,000 ports 2000-61999 (source_ports)"))
        let tooMany = TuneAdvisor(configuration: try TuneFixtures.config(yaml), sessions: 300_000, host: host).advise()
        let full = try #require(TuneFixtures.check(tooMany, "ports 10.1.0.9:1883"))
        #expect(full.status == .fail)
        // 300,000 / (60,000 x 0.8) = 7 source IPs here; outside 60000-60999 the widest range is
        // 1024-59999 (58,976 ports): also 7, so no source_ports advice.
        #expect(full.needed.contains("7 source IPs") && !full.needed.contains("with source_ports"), "\(full.needed)")
        // The front picks these ports itself: no reason to widen ip_local_port_range for them.
        #expect(tooMany.recommendation.portRange == 60000...60999)
    }

    @Test("source_ports sharing ports with ip_local_port_range warn and name a range outside it")
    func sourcePortsInsideTheEphemeralRangeWarn() throws {
        var host = TuneFixtures.roomyHost
        host.portRange = 32768...60999
        func advice(_ ports: String) throws -> TuneAdvice {
            let yaml = TuneFixtures.oneServerYAML.replacingOccurrences(
                of: "source_ips: [10.0.0.5]", with: "source_ips: [10.0.0.5]\n    source_ports: \(ports)")
            return try TuneFixtures.advise(yaml, sessions: 1000, host: host)
        }
        let overlapping = try #require(TuneFixtures.check(try advice("1024-65535"), "source_ports"))
        #expect(overlapping.status == .warn)
        #expect(overlapping.found == "ip_local_port_range 32768-60999; brokers 1024-65535 shares 32768-60999")
        #expect(overlapping.needed.contains("e.g. source_ports: 1024-32767"), "\(overlapping.needed)")
        let outside = try #require(TuneFixtures.check(try advice("1024-32767"), "source_ports"))
        #expect(outside.status == .ok, "\(outside)")
        // Without source_ports there is no such check.
        let none = try TuneFixtures.advise(TuneFixtures.oneServerYAML, sessions: 1000, host: host)
        #expect(TuneFixtures.check(none, "source_ports") == nil)
    }

    @Test("the kernel-range advice offers source_ports outside ip_local_port_range")
    func smallEphemeralRangeAdvisesSourcePortsOutsideIt() throws {
        var host = TuneFixtures.roomyHost
        host.portRange = 60000...60999
        let advice = try TuneFixtures.advise(TuneFixtures.oneServerYAML, sessions: 200_000, host: host)
        let ports = try #require(TuneFixtures.check(advice, "ports 10.1.0.9:1883"))
        // 200,000 / (58,976 x 0.8 = 47,180) = 5 source IPs with 1024-59999.
        #expect(ports.needed.contains("or 5 with source_ports: 1024-59999 (outside ip_local_port_range)"), "\(ports)")
    }

    @Test("a pair between 80% and 100% of the range warns, and a wider range is recommended")
    func nearlyFullRangeWarns() throws {
        var host = TuneFixtures.roomyHost
        host.portRange = 32768...60999
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.oneServerYAML), sessions: 25_000, host: host
        ).advise()
        let ports = try #require(TuneFixtures.check(advice, "ports 10.1.0.9:1883"))
        #expect(ports.status == .warn)
        #expect(advice.exitCode == 0)
        #expect(advice.recommendation.portRange == 10240...65535)
    }

    @Test("127/8 source IPs count as present on Linux; others must be on an interface")
    func sourceIPsPresence() throws {
        let yaml = TuneFixtures.demoYAML.replacingOccurrences(
            of: "[127.0.2.1, 127.0.2.2]", with: "[127.0.2.1, 10.0.0.5, 192.0.2.77]")
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(yaml), sessions: 9000, host: TuneFixtures.roomyHost
        ).advise()
        let check = try #require(TuneFixtures.check(advice, "source_ips"))
        #expect(check.status == .fail)
        #expect(check.found.contains("on an interface: 10.0.0.5"))
        #expect(check.found.contains("127.0.0.0/8, usable though not listed"))
        #expect(check.found.contains("on no interface: 192.0.2.77"))

        var bsd = TuneFixtures.roomyHost
        bsd.loopbackCoversSlash8 = false
        let strict = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: 9000, host: bsd
        ).advise()
        #expect(
            TuneFixtures.check(strict, "source_ips")?.found.contains("on no interface: 127.0.2.1, 127.0.2.2") == true)
    }

    @Test("balance: first sizes every server for all sessions; backups for the whole share")
    func firstAndBackupSizing() throws {
        let yaml = """
            listeners:
              - { name: redis, bind: 127.0.0.1:6380, protocol: tcp, backend: redis }
            backends:
              - name: redis
                balance: first
                servers:
                  - { name: primary, address: 127.0.0.1:6379 }
                  - { name: replica, address: 127.0.0.1:6389 }
            """
        let spread = SessionSpread(configuration: try TuneFixtures.config(yaml), sessions: 10_000)
        #expect(spread.destinations.map(\.sessions) == [10_000, 10_000])
        #expect(spread.destinations.map(\.active) == [true, false])
        // Client on loopback (3 sockets per session) and one local server in service (1 more).
        #expect(spread.kernelSockets == 40_000)

        let weighted = """
            listeners:
              - { name: mqtt, bind: 0.0.0.0:1883, backend: b }
            backends:
              - name: b
                balance: round-robin
                servers:
                  - { name: a, address: 10.1.0.1:1883, weight: 3 }
                  - { name: c, address: 10.1.0.2:1883, weight: 1, max_connections: 100 }
                  - { name: z, address: 10.1.0.3:1883, backup: true }
            """
        let shares = SessionSpread(configuration: try TuneFixtures.config(weighted), sessions: 1000)
        #expect(shares.destinations.map(\.sessions) == [750, 100, 1000])
        #expect(shares.kernelSockets == 2000)
    }

    @Test("the front's memory: ~1.1 KiB per session on relay threads, ~5.2 KiB on channels (TLS, relay_threads: 0)")
    func frontMemoryFollowsRelayThreads() throws {
        var configuration = try TuneFixtures.config(TuneFixtures.demoYAML)
        func memory() throws -> String {
            let advice = TuneAdvisor(configuration: configuration, sessions: 100_000, host: TuneFixtures.roomyHost)
                .advise()
            return try #require(TuneFixtures.check(advice, "memory")).needed
        }
        // 100,000 x 1,130 B = 107.8 MiB; x 5,350 B = 510.2 MiB.
        let relayed = try memory()
        #expect(relayed.contains("107.8 MiB front (~1.1 KiB per session on a relay thread)"), "\(relayed)")
        configuration.relayThreads = 0
        #expect(try memory().contains("510.2 MiB front (~5.2 KiB per session, relay_threads: 0)"))
        configuration.relayThreads = nil
        configuration.listeners[0].tls = TLSConfig(certificate: "c.pem", privateKey: "k.pem")
        #expect(try memory().contains("510.2 MiB front (~5.2 KiB per TLS session)"))
        var plain = configuration.listeners[0]
        plain.name = "plain"
        plain.tls = nil
        configuration.listeners.append(plain)
        // Two listeners share the sessions evenly: 50,000 on channels, 50,000 relayed.
        #expect(try memory().contains("(~1.1 KiB x 50,000 on relay threads, ~5.2 KiB x 50,000 TLS)"))
    }

    @Test("any session count is sized without overflow: clamped to a billion")
    func hugeSessionCounts() throws {
        var configuration = try TuneFixtures.config(TuneFixtures.demoYAML)
        configuration.maxConnections = Int.max
        for sessions in [Int.max, Int.max / 2, 4_000_000_000_000_000_000] {
            let advisor = TuneAdvisor(configuration: configuration, sessions: sessions, host: TuneFixtures.roomyHost)
            #expect(advisor.sessions == TuneAdvisor.maximumSessions)
            let advice = advisor.advise()
            #expect(TuneFixtures.check(advice, "nofile")?.status == .fail)
            #expect(advice.exitCode == 3)
        }
    }

    @Test("unreadable facts warn instead of guessing; a missing conntrack table is fine")
    func unknownFactsWarn() throws {
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: 9000,
            host: HostFacts(pageSize: 4096)
        ).advise()
        #expect(advice.worst == .warn)
        #expect(advice.exitCode == 0)
        #expect(TuneFixtures.check(advice, "nofile")?.found == "RLIMIT_NOFILE could not be read")
        #expect(TuneFixtures.check(advice, "nf_conntrack_max")?.status == .ok)
    }

    @Test("kernel settings: short backlog, tw_reuse off, tcp_mem too small, busy conntrack table")
    func kernelSettings() throws {
        var host = TuneFixtures.roomyHost
        host.somaxconn = 128
        host.tcpTwReuse = 0
        host.tcpMem = [10_000, 20_000, 30_000]
        host.conntrackMax = 65_536
        host.conntrackCount = 1_200
        let advice = TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: 100_000, host: host
        ).advise()
        #expect(TuneFixtures.check(advice, "net.core.somaxconn")?.status == .warn)
        #expect(TuneFixtures.check(advice, "net.ipv4.tcp_tw_reuse")?.status == .warn)
        // 100,000 x 4 sockets x 3,686 B = 1.37 GiB, above tcp_mem max 30,000 pages (117 MiB).
        #expect(TuneFixtures.check(advice, "net.ipv4.tcp_mem")?.status == .fail)
        #expect(TuneFixtures.check(advice, "nf_conntrack_max")?.status == .fail)
        let pages = try #require(advice.recommendation.tcpMem)
        #expect(pages[0] >= 100_000 * 4 * 3686 / 4096)
        #expect(pages[0] < pages[1] && pages[1] < pages[2])
        #expect(advice.recommendation.somaxconn == 4096)
        #expect(advice.recommendation.conntrackMax == 262_144)
    }

    @Test(
        "the descriptor reserve is the one run keeps on a host with that many CPUs: 16 CPUs and an admin plane keep more than 64"
    )
    func reserveFollowsTheHost() throws {
        var host = TuneFixtures.roomyHost
        host.nofileSoft = 1024
        host.nofileHard = 1024
        let yaml = "admin:\n  bind: 127.0.0.1:8404\n" + TuneFixtures.demoYAML
        host.cpus = 16
        let advice = TuneAdvisor(configuration: try TuneFixtures.config(yaml), sessions: 9000, host: host)
        // 16 + 3 × 16 event loops + 3 × 8 relay threads + 16 listening sockets + 129 for the admin plane.
        #expect(advice.descriptorReserve == 233)
        let nofile = try #require(TuneFixtures.check(advice.advise(), "nofile"))
        #expect(nofile.needed.contains("18,233"), "\(nofile.needed)")
        #expect(nofile.needed.contains("395 fit"), "\(nofile.needed)")
        #expect(nofile.needed.contains("233 reserve"), "\(nofile.needed)")
    }
}
