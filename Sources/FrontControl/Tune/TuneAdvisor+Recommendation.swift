import FrontConfig

extension TuneAdvisor {
    /// The values for the snippets: each at least the host's current value and at least what the sessions need.
    func recommendation(_ spread: SessionSpread) -> TuneRecommendation {
        let nofile = max(TuneFormat.powerOfTwo(atLeast: descriptorsNeeded), 1 << 20, host.nofileHard ?? 0)
        let range = portRange(spread)
        let page = max(host.pageSize, 1)
        let neededPages = UInt64(kernelBytes(spread) / Double(page)) + 1
        var tcpMem: [UInt64]?
        // Global and raise-only: with the host's values unknown (`tune --baseline`) nothing is pinned.
        if host.tcpMem == nil || host.tcpMem.map({ $0.count == 3 && $0[1] >= neededPages }) == true {
            tcpMem = nil
        } else {
            let current = host.tcpMem ?? [0, 0, 0]
            tcpMem = [
                max(current[0], neededPages), max(current[1], neededPages * 5 / 4),
                max(current[2], neededPages * 3 / 2),
            ]
        }
        let conntrack = host.conntrackMax.map { current in
            max(current, TuneFormat.powerOfTwo(atLeast: UInt64(sessions) * Self.conntrackPerSession * 5 / 4))
        }
        var recommendation = TuneRecommendation(
            nofile: nofile, nrOpen: max(host.nrOpen ?? 0, nofile), fileMax: max(host.fileMax ?? 0, nofile * 2),
            portRange: range, reservedPorts: reservedPorts(in: range, spread: spread),
            somaxconn: max(host.somaxconn ?? 0, Self.listenBacklog),
            synBacklog: max(host.tcpMaxSynBacklog ?? 0, Self.listenBacklog),
            tcpMem: tcpMem, rmemMax: host.tcpRmem?.last ?? 6_291_456, wmemMax: host.tcpWmem?.last ?? 4_194_304,
            conntrackMax: conntrack)
        recommendation.raiseNrOpen = host.nrOpen.map { $0 < nofile } ?? false
        recommendation.raiseFileMax = host.fileMax.map { $0 < nofile * 2 } ?? false
        recommendation.tcpMemNeeded = neededPages * 5 / 4
        return recommendation
    }

    /// The current range when every (source IP, server) pair stays under the warning share, else the
    /// narrowest standard widening that does (10240-65535), else the widest (1024-65535).
    /// Servers of backends with `source_ports` do not count: the front picks their ports itself, from
    /// a range that should stay outside this one.
    func portRange(_ spread: SessionSpread) -> ClosedRange<Int> {
        let ownPorts = Set(configuration.backends.filter { $0.sourcePorts != nil }.map(\.name))
        let kernelPicked = Set(spread.destinations.filter { !ownPorts.contains($0.backend) }.map(\.address))
        let busiest = spread.sessionsPerPair.filter { kernelPicked.contains($0.key.destination) }.values.max() ?? 0
        func fits(_ range: ClosedRange<Int>) -> Bool { Double(busiest) <= Double(range.count) * Self.warnShare }
        if let current = host.portRange, fits(current) { return current }
        let candidates = [10240...65535, Self.widestPortRange]
        let chosen = candidates.first(where: fits) ?? Self.widestPortRange
        if let current = host.portRange, current.count >= chosen.count { return current }
        return chosen
    }

    /// Listening ports that would collide with outgoing connections inside `range`: the config's listeners
    /// and admin plane, and servers on loopback (a local broker listens there).
    func reservedPorts(in range: ClosedRange<Int>, spread: SessionSpread) -> [Int] {
        var ports = configuration.listeners.map(\.bind.port)
        if let admin = configuration.admin { ports.append(admin.bind.port) }
        ports += spread.destinations.filter { IPAddressText.isLoopbackHost($0.address.host) }.map(\.address.port)
        return Array(Set(ports.filter { range.contains($0) })).sorted()
    }
}
