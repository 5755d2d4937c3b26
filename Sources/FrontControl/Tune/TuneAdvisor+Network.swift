import FrontConfig

extension TuneAdvisor {
    /// Every source IP named in `backends[].source_ips` and `servers[].source_ips`, once, in file order.
    var configuredSourceIPs: [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for backend in configuration.backends {
            for ip in backend.sourceIPs + backend.servers.flatMap(\.sourceIPs) where seen.insert(ip).inserted {
                result.append(ip)
            }
        }
        return result
    }

    /// Configured source IPs must be local, or every upstream bind() fails with EADDRNOTAVAIL.
    func sourceIPCheck() -> TuneCheck {
        let configured = configuredSourceIPs
        guard !configured.isEmpty else {
            return TuneCheck(
                .ok, "source_ips", found: "none configured",
                needed: "the kernel picks the source address, one port range per server")
        }
        let present = Set(host.interfaceAddresses.compactMap(IPAddressText.canonical))
        var listed: [String] = []
        var loopback: [String] = []
        var missing: [String] = []
        for ip in configured {
            if let canonical = IPAddressText.canonical(ip), present.contains(canonical) {
                listed.append(ip)
            } else if host.loopbackCoversSlash8 && IPAddressText.isIPv4Loopback(ip) {
                loopback.append(ip)
            } else {
                missing.append(ip)
            }
        }
        var parts: [String] = []
        if !listed.isEmpty { parts.append("on an interface: \(listed.joined(separator: ", "))") }
        if !loopback.isEmpty {
            parts.append(
                "in 127.0.0.0/8, usable though not listed (Linux routes all of 127/8 to lo): "
                    + loopback.joined(separator: ", "))
        }
        if !missing.isEmpty { parts.append("on no interface: \(missing.joined(separator: ", "))") }
        let found = "\(configured.count) configured; " + parts.joined(separator: "; ")
        if !missing.isEmpty {
            return TuneCheck(
                .fail, "source_ips", found: found,
                needed: "every source IP must be local (ip addr add IP/32 dev IFACE), else dials fail (EADDRNOTAVAIL)")
        }
        return TuneCheck(.ok, "source_ips", found: found, needed: "every source IP must be local")
    }

    /// One check per server address: sessions per (source IP, server) against the ephemeral port range.
    func portChecks(_ spread: SessionSpread) -> [TuneCheck] {
        let pairs = spread.sessionsPerPair
        let recommendedRange = portRange(spread)
        var addresses: [Endpoint] = []
        for destination in spread.destinations where !addresses.contains(destination.address) {
            addresses.append(destination.address)
        }
        return addresses.map { address in
            let servers = spread.destinations.filter { $0.address == address }
            let names = servers.map { "\($0.backend)/\($0.server)" }.joined(separator: ",")
            let name = "ports \(address) (\(names))"
            let mine = pairs.filter { $0.key.destination == address }
            let busiest = mine.values.max() ?? 0
            let kernelChosen = mine.count == 1 && mine.keys.contains { $0.sourceIP.isEmpty }
            let ips =
                kernelChosen
                ? "one kernel-chosen source IP" : mine.count == 1 ? "1 source IP" : "\(mine.count) source IPs"
            // With `source_ports` on every backend dialing this address the front's own range counts.
            let picked = servers.compactMap { server in
                configuration.backends.first { $0.name == server.backend }?.sourcePorts
            }
            let ownRange =
                picked.count == servers.count ? picked.min { $0.count < $1.count }.map { $0.lower...$0.upper } : nil
            guard let range = ownRange ?? host.portRange else {
                return TuneCheck(
                    .warn, name, found: "ip_local_port_range could not be read",
                    needed: "\(TuneFormat.count(busiest)) ports per source IP (\(ips))")
            }
            let share = Double(busiest) / Double(range.count)
            let found =
                "\(TuneFormat.count(busiest)) sessions per source IP (\(ips)) over \(TuneFormat.count(range.count)) "
                + "ports \(range.lowerBound)-\(range.upperBound)\(ownRange == nil ? "" : " (source_ports)"), "
                + TuneFormat.percent(share)
            let total = servers.reduce(0) { $0 + $1.sessions }
            if share <= Self.warnShare {
                return TuneCheck(
                    .ok, name, found: found, needed: "under \(TuneFormat.percent(Self.warnShare)) of the range")
            }
            let neededHere = sourceIPsNeeded(sessions: total, ports: range.count)
            let wider = recommendedRange.count > range.count ? recommendedRange : Self.widestPortRange
            let neededWide = sourceIPsNeeded(sessions: total, ports: wider.count)
            var advice =
                "each (source IP, server) pair has its own range: \(neededHere) source IPs keep it under "
                + TuneFormat.percent(Self.warnShare)
            if ownRange == nil, neededWide < neededHere {
                advice += ", or \(neededWide) with ip_local_port_range \(wider.lowerBound) \(wider.upperBound)"
            }
            // source_ports must stay out of the ephemeral range (see `sourcePortsCheck`).
            if let outside = host.portRange.flatMap({ SourcePortRange.outside(ephemeral: $0) }) {
                let neededOutside = sourceIPsNeeded(sessions: total, ports: outside.count)
                if neededOutside < neededHere {
                    advice += ", or \(neededOutside) with source_ports: \(outside) (outside ip_local_port_range)"
                }
            }
            return TuneCheck(share > 1 ? .fail : .warn, name, found: found, needed: advice)
        }
    }

    /// `source_ports` that share ports with `ip_local_port_range` take them from every connect() on the
    /// host (the kernel's search skips any port a bind() holds); nil when no backend sets source_ports.
    func sourcePortsCheck() -> TuneCheck? {
        let picking = configuration.backends.compactMap { backend in backend.sourcePorts.map { (backend.name, $0) } }
        guard !picking.isEmpty else { return nil }
        guard let ephemeral = host.portRange else {
            return TuneCheck(
                .warn, "source_ports", found: "ip_local_port_range could not be read",
                needed: "source_ports outside ip_local_port_range")
        }
        let shared = picking.compactMap { name, range in
            range.overlap(withEphemeral: ephemeral).map { "\(name) \(range) shares \($0.lowerBound)-\($0.upperBound)" }
        }
        let found =
            "ip_local_port_range \(ephemeral.lowerBound)-\(ephemeral.upperBound); "
            + (shared.isEmpty
                ? picking.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + " outside it"
                : shared.joined(separator: ", "))
        guard !shared.isEmpty else {
            return TuneCheck(.ok, "source_ports", found: found, needed: "source_ports outside ip_local_port_range")
        }
        let suggestion = SourcePortRange.outside(ephemeral: ephemeral).map { " (e.g. source_ports: \($0))" } ?? ""
        return TuneCheck(
            .warn, "source_ports", found: found,
            needed: "a range outside ip_local_port_range\(suggestion): every port the front holds bound there is "
                + "skipped by connect() everywhere on this host (health checks, kernel-chosen dials, other "
                + "programs), which fails or crawls once they fill the range")
    }

    /// The widest ephemeral range that leaves the privileged ports alone.
    static let widestPortRange = 1024...65535

    /// Source IPs that keep `sessions` to one server under the warning share of `ports`.
    func sourceIPsNeeded(sessions: Int, ports: Int) -> Int {
        let perIP = max(Int(Double(ports) * Self.warnShare), 1)
        return max((sessions + perIP - 1) / perIP, 1)
    }

    /// The listen backlog the front asks for is capped at somaxconn.
    func somaxconnCheck() -> TuneCheck {
        guard let somaxconn = host.somaxconn else {
            return TuneCheck(.warn, "net.core.somaxconn", found: "could not be read", needed: "\(Self.listenBacklog)")
        }
        let syn = host.tcpMaxSynBacklog.map { ", tcp_max_syn_backlog \(TuneFormat.count($0))" } ?? ""
        let found = "\(TuneFormat.count(somaxconn))\(syn)"
        let needed = "the front listens with a backlog of \(Self.listenBacklog)"
        if somaxconn < Self.listenBacklog {
            return TuneCheck(
                .warn, "net.core.somaxconn", found: found,
                needed: needed + "; the kernel cuts it to \(somaxconn): reconnect storms see SYN retries (1 s and more)"
            )
        }
        return TuneCheck(.ok, "net.core.somaxconn", found: found, needed: needed)
    }

    /// TIME_WAIT sockets of closed upstreams hold their (source IP, port, server) until reused or expired.
    func twReuseCheck(_ spread: SessionSpread) -> TuneCheck {
        let allLoopback = spread.destinations.allSatisfy { IPAddressText.isLoopbackHost($0.address.host) }
        let why =
            "1 (or 2 with only loopback servers) lets new upstreams reuse ports in TIME_WAIT, "
            + "which collect on the front: it closes upstreams first (client_closed, idle_timeout)"
        switch host.tcpTwReuse {
        case nil:
            return TuneCheck(.warn, "net.ipv4.tcp_tw_reuse", found: "could not be read", needed: why)
        case 1:
            return TuneCheck(.ok, "net.ipv4.tcp_tw_reuse", found: "1 (on)", needed: why)
        case 2 where allLoopback:
            return TuneCheck(
                .ok, "net.ipv4.tcp_tw_reuse", found: "2 (loopback only), every server is on loopback", needed: why)
        case let value?:
            let found = value == 2 ? "2 (loopback only), servers are not all on loopback" : "\(value) (off)"
            return TuneCheck(.warn, "net.ipv4.tcp_tw_reuse", found: found, needed: why)
        }
    }

    /// Connection tracking, when loaded, keeps one entry per flow: a full table drops new connections.
    func conntrackCheck() -> TuneCheck {
        let needed = UInt64(sessions) * Self.conntrackPerSession
        let need = "\(TuneFormat.count(needed)) entries (client and upstream flow per session)"
        guard let maximum = host.conntrackMax else {
            return TuneCheck(.ok, "nf_conntrack_max", found: "connection tracking not loaded", needed: need)
        }
        var found = TuneFormat.count(maximum)
        // Loaded but holding nothing: no firewall rule hooks tracking in (yet); a full table would then
        // only matter once one does.
        let idle = host.conntrackCount == 0
        if let count = host.conntrackCount {
            found += ", \(TuneFormat.count(count)) in use" + (idle ? " (nothing tracked now)" : "")
        }
        if needed > maximum {
            let effect =
                idle
                ? "; once a rule tracks connections, a full table drops new ones"
                : "; a full table drops new connections"
            return TuneCheck(idle ? .warn : .fail, "nf_conntrack_max", found: found, needed: need + effect)
        }
        if Double(needed) > Double(maximum) * Self.warnShare {
            return TuneCheck(.warn, "nf_conntrack_max", found: found, needed: need)
        }
        return TuneCheck(.ok, "nf_conntrack_max", found: found, needed: need)
    }
}
