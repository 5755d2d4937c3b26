/// `brokerfront tune`'s text: one line per check, a tally, then snippets ready to paste into
/// `/etc/sysctl.d/60-brokerfront.conf`, `/etc/security/limits.conf` and a systemd drop-in.
public enum TuneReport {
    /// The whole report for `advice`; `configPath` as the user named it, `user` the account the front runs as.
    public static func render(_ advice: TuneAdvice, configPath: String, user: String = "brokerfront") -> String {
        var lines = [
            "brokerfront tune: \(configPath) sized for \(TuneFormat.count(advice.sessions)) concurrent client sessions",
            "(limits are this shell's; a systemd unit has its own LimitNOFILE)",
            "",
        ]
        lines += advice.checks.map(\.line)
        lines.append("")
        lines.append(
            "\(advice.count(.fail)) FAIL, \(advice.count(.warn)) WARN, \(advice.count(.ok)) OK"
                + (advice.exitCode == 0 ? "" : " (exit \(advice.exitCode))"))
        lines.append("")
        lines += sysctl(advice.recommendation)
        lines.append("")
        lines += limits(advice.recommendation, user: user)
        lines.append("")
        lines += systemd(advice.recommendation)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `/etc/sysctl.d/60-brokerfront.conf`. sysctl.d only takes comments on lines of their own.
    public static func sysctl(_ values: TuneRecommendation) -> [String] {
        var lines = [
            "# ---- /etc/sysctl.d/60-brokerfront.conf   (apply: sysctl --system)",
            "# Descriptors: fs.nr_open caps every process's LimitNOFILE; fs.file-max counts all processes.",
            "# Raise only: systemd sets both to their maximum at boot, and a smaller number here would lower them.",
            (values.raiseNrOpen ? "" : "# (only where `sysctl fs.nr_open` shows less) ")
                + "fs.nr_open = \(values.nrOpen)",
            (values.raiseFileMax ? "" : "# (only where `sysctl fs.file-max` shows less) ")
                + "fs.file-max = \(values.fileMax)",
            "# Ephemeral ports, per (source IP, server) pair with IP_BIND_ADDRESS_NO_PORT.",
            "net.ipv4.ip_local_port_range = \(values.portRange.lowerBound) \(values.portRange.upperBound)",
        ]
        if !values.reservedPorts.isEmpty {
            lines.append("# Listening ports inside that range (the front's, its admin plane's, local brokers').")
            lines.append(
                "net.ipv4.ip_local_reserved_ports = \(values.reservedPorts.map(String.init).joined(separator: ","))")
        }
        lines += [
            "# Accept queues: the front listens with a backlog of \(TuneAdvisor.listenBacklog).",
            "net.core.somaxconn = \(values.somaxconn)",
            "net.ipv4.tcp_max_syn_backlog = \(values.synBacklog)",
            "# Reuse ports of upstream connections in TIME_WAIT for new ones (safe for outgoing connections).",
            "net.ipv4.tcp_tw_reuse = 1",
        ]
        if let tcpMem = values.tcpMem {
            lines.append("# All TCP sockets' memory in pages (min pressure max), sized for the sessions' idle sockets.")
            lines.append("net.ipv4.tcp_mem = \(tcpMem.map(String.init).joined(separator: " "))")
        } else {
            lines.append(
                "# net.ipv4.tcp_mem (pages; global, raise only): the sessions' idle sockets need a pressure "
                    + "threshold of at least \(values.tcpMemNeeded).")
        }
        lines += [
            "# Many mostly idle sessions: smaller default buffers (min default max, bytes); they still grow when busy.",
            "# net.ipv4.tcp_rmem = 4096 16384 \(values.rmemMax)",
            "# net.ipv4.tcp_wmem = 4096 16384 \(values.wmemMax)",
        ]
        if let conntrack = values.conntrackMax {
            lines.append("# Connection tracking is loaded: 2 entries per session (needs nf_conntrack loaded at boot).")
            lines.append("net.netfilter.nf_conntrack_max = \(conntrack)")
        }
        return lines
    }

    /// `/etc/security/limits.conf` lines for `user` (PAM logins; services started by systemd ignore them).
    public static func limits(_ values: TuneRecommendation, user: String) -> [String] {
        [
            "# ---- /etc/security/limits.conf   (logins and su through PAM; systemd services ignore this file)",
            "\(user)  soft  nofile  \(values.nofile)",
            "\(user)  hard  nofile  \(values.nofile)",
        ]
    }

    /// A systemd drop-in raising the unit's RLIMIT_NOFILE.
    public static func systemd(_ values: TuneRecommendation) -> [String] {
        [
            "# ---- /etc/systemd/system/brokerfront.service.d/limits.conf",
            "# (then: systemctl daemon-reload && systemctl restart brokerfront)",
            "[Service]",
            "LimitNOFILE=\(values.nofile)",
        ]
    }
}
