import Testing

@testable import FrontControl

@Suite("tune report: lines and snippets")
struct TuneReportTests {
    func advice(sessions: Int = 300_000) throws -> TuneAdvice {
        var host = TuneFixtures.roomyHost
        host.nofileHard = 20_000
        host.nofileSoft = 20_000
        return TuneAdvisor(
            configuration: try TuneFixtures.config(TuneFixtures.demoYAML), sessions: sessions, host: host
        ).advise()
    }

    @Test("one line per check as `STATUS  name: found; needed`, then a tally")
    func checkLines() throws {
        let advice = try advice()
        let text = TuneReport.render(advice, configPath: "config/demo.yaml")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let checkLines = lines.filter { $0.hasPrefix("OK    ") || $0.hasPrefix("WARN  ") || $0.hasPrefix("FAIL  ") }
        #expect(checkLines.count == advice.checks.count)
        #expect(checkLines.contains { $0.hasPrefix("FAIL  nofile: RLIMIT_NOFILE soft 20,000, hard 20,000") })
        #expect(
            lines.contains("\(advice.count(.fail)) FAIL, \(advice.count(.warn)) WARN, \(advice.count(.ok)) OK (exit 3)")
        )
        #expect(text.hasPrefix("brokerfront tune: config/demo.yaml sized for 300,000 concurrent client sessions"))
    }

    @Test("global limits are raise-only: active where the host is short, commented where it has more or is unknown")
    func raiseOnly() throws {
        var short = TuneFixtures.roomyHost
        short.nrOpen = 1024
        short.fileMax = 4096
        short.tcpMem = [100, 200, 300]
        let configuration = try TuneFixtures.config(TuneFixtures.demoYAML)
        let raised = TuneReport.sysctl(
            TuneAdvisor(configuration: configuration, sessions: 300_000, host: short).advise().recommendation)
        #expect(raised.contains("fs.nr_open = 2097152"))
        #expect(raised.contains("fs.file-max = 4194304"))
        #expect(raised.contains { $0.hasPrefix("net.ipv4.tcp_mem = ") })
        let unknown = TuneReport.sysctl(
            TuneAdvisor(configuration: configuration, sessions: 300_000, host: HostFacts()).advise().recommendation)
        #expect(!unknown.contains { $0.hasPrefix("fs.") || $0.hasPrefix("net.ipv4.tcp_mem") }, "\(unknown)")
        #expect(unknown.contains { $0.hasPrefix("# net.ipv4.tcp_mem (pages; global, raise only)") })
    }

    @Test("snippets: sysctl.d without trailing comments, limits.conf, systemd LimitNOFILE")
    func snippets() throws {
        let text = TuneReport.render(try advice(), configPath: "demo.yaml", user: "mqtt")
        #expect(text.contains("# ---- /etc/sysctl.d/60-brokerfront.conf"))
        // The host already allows more than needed: the global limit is not pinned (raise only).
        #expect(text.contains("\n# (only where `sysctl fs.nr_open` shows less) fs.nr_open = 2097152\n"))
        #expect(!text.contains("\nfs.nr_open = "))
        #expect(text.contains("\nnet.ipv4.ip_local_port_range = 1024 65535\n"))
        #expect(text.contains("\nnet.ipv4.ip_local_reserved_ports = 1883,18831,18832\n"))
        #expect(text.contains("\nnet.ipv4.tcp_tw_reuse = 1\n"))
        #expect(text.contains("\nmqtt  soft  nofile  1048576\nmqtt  hard  nofile  1048576\n"))
        #expect(text.contains("\n[Service]\nLimitNOFILE=1048576\n"))
        // sysctl.d takes comments only on lines of their own: a setting line never carries one.
        for line in TuneReport.sysctl(try advice().recommendation) where !line.hasPrefix("#") {
            #expect(!line.contains("#"), "\(line)")
            #expect(line.contains(" = "), "\(line)")
        }
    }

    @Test("numbers and sizes read the way operators write them")
    func formatting() {
        #expect(TuneFormat.count(600_064) == "600,064")
        #expect(TuneFormat.count(999) == "999")
        #expect(TuneFormat.bytes(3686) == "3.6 KiB")
        #expect(TuneFormat.bytes(131_072) == "128 KiB")
        #expect(TuneFormat.powerOfTwo(atLeast: 600_064) == 1_048_576)
        #expect(TuneFormat.powerOfTwo(atLeast: 1_048_576) == 1_048_576)
    }
}
