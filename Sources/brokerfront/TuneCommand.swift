import ArgumentParser
import FrontConfig
import FrontControl

/// `brokerfront tune --config FILE [--connections N]`: compare this host's limits with what the config
/// needs for N concurrent client sessions, print one OK/WARN/FAIL line per check and ready-to-paste
/// sysctl.d, limits.conf and systemd snippets. Exit 0 when nothing fails, 3 when something does, 1 on a
/// bad config (its problems printed as `check` prints them).
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Check this host's limits against what the config needs for N client connections.",
        discussion: """
            Reads RLIMIT_NOFILE, fs.nr_open, fs.file-max, ip_local_port_range, somaxconn, tcp_tw_reuse, \
            tcp_mem/rmem/wmem, nf_conntrack_max and the interfaces' addresses. Exit 0 when every check is OK \
            or WARN, 3 when one FAILs, 1 when the config is invalid.
            """)

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String

    @Option(name: .long, help: "Concurrent client connections to size for (default: the config's max_connections).")
    var connections: Int?

    @Option(name: .long, help: "The account the front runs as, for the limits.conf lines.")
    var user: String = "brokerfront"

    @Flag(name: .long, help: "Print only the sysctl.d file (for /etc/sysctl.d/60-brokerfront.conf).")
    var sysctl = false

    @Flag(
        name: .long,
        help: "Size for any host, not this one: nothing is read from it, and global limits are left as advice.")
    var baseline = false

    func validate() throws {
        if let connections, connections < 1 {
            throw ValidationError("--connections must be at least 1")
        }
        if let connections, connections > TuneAdvisor.maximumSessions {
            throw ValidationError("--connections must be at most 1000000000")
        }
    }

    func run() throws {
        let configuration: FrontConfiguration
        do {
            configuration = try ConfigLoader.load(contentsOf: config)
        } catch {
            StandardError.write(error.description)
            throw ExitCode(1)
        }
        let advisor = TuneAdvisor(
            configuration: configuration, sessions: connections ?? configuration.maxConnections,
            host: baseline ? HostFacts() : HostFacts.current())
        let advice = advisor.advise()
        if sysctl {
            let how = "# Made by `brokerfront tune --sysctl\(baseline ? " --baseline" : "")` for "
            var lines = TuneReport.sysctl(advice.recommendation)
            let name = config.split(separator: "/").last.map(String.init) ?? config
            lines.insert(how + "\(advice.sessions) sessions of \(name).", at: 1)
            print(lines.joined(separator: "\n"))
            return
        }
        print(TuneReport.render(advice, configPath: config, user: user), terminator: "")
        if advice.exitCode != 0 { throw ExitCode(advice.exitCode) }
    }
}
