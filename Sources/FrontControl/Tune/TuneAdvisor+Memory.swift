extension TuneAdvisor {
    /// Kernel memory of all sockets at full load, idle, in bytes.
    func kernelBytes(_ spread: SessionSpread) -> Double {
        Double(spread.kernelSockets) * Self.kernelBytesPerSocket
    }

    private func socketNeed(_ spread: SessionSpread) -> String {
        "\(TuneFormat.count(spread.kernelSockets)) sockets x ~3.6 KiB idle = \(TuneFormat.bytes(kernelBytes(spread)))"
    }

    /// tcp_mem (pages, all TCP sockets together): above pressure the kernel trims buffers, above max
    /// new allocations fail.
    func tcpMemCheck(_ spread: SessionSpread) -> TuneCheck {
        guard let tcpMem = host.tcpMem, tcpMem.count == 3 else {
            return TuneCheck(.warn, "net.ipv4.tcp_mem", found: "could not be read", needed: socketNeed(spread))
        }
        let page = Double(host.pageSize)
        let pressure = Double(tcpMem[1]) * page
        let maximum = Double(tcpMem[2]) * page
        let found =
            "\(tcpMem.map(String.init).joined(separator: " ")) pages (pressure \(TuneFormat.bytes(pressure)), "
            + "max \(TuneFormat.bytes(maximum)))"
        let need = socketNeed(spread)
        let bytes = kernelBytes(spread)
        if bytes > maximum {
            return TuneCheck(.fail, "net.ipv4.tcp_mem", found: found, needed: need + ": raise tcp_mem (snippet below)")
        }
        if bytes > pressure {
            return TuneCheck(.warn, "net.ipv4.tcp_mem", found: found, needed: need + ": above the pressure mark")
        }
        return TuneCheck(.ok, "net.ipv4.tcp_mem", found: found, needed: need)
    }

    /// tcp_rmem/tcp_wmem defaults: what every socket may grow to when busy. Idle MQTT sessions hold none,
    /// but a burst on every session at once must not need more than the machine has.
    func bufferCheck(_ spread: SessionSpread) -> TuneCheck {
        let name = "net.ipv4.tcp_rmem/tcp_wmem"
        guard let rmem = host.tcpRmem, let wmem = host.tcpWmem, rmem.count == 3, wmem.count == 3 else {
            return TuneCheck(.warn, name, found: "could not be read", needed: "defaults sized for many idle sockets")
        }
        let perSocket = Double(rmem[1] + wmem[1])
        let burst = perSocket * Double(spread.kernelSockets)
        let found =
            "default \(TuneFormat.bytes(Double(rmem[1]))) receive + \(TuneFormat.bytes(Double(wmem[1]))) send per socket"
        let need =
            "every socket busy at once: \(TuneFormat.count(spread.kernelSockets)) x "
            + "\(TuneFormat.bytes(perSocket)) = \(TuneFormat.bytes(burst))"
        guard let memory = host.memoryTotal, burst > Double(memory) else {
            return TuneCheck(.ok, name, found: found, needed: need)
        }
        return TuneCheck(
            .warn, name, found: found,
            needed: need + ", more than the \(TuneFormat.bytes(Double(memory))) of RAM: lower the defaults (snippet)")
    }

    /// The front's own memory for the sessions at full load, idle: a plain session moves to a relay
    /// thread after its first second (~1.1 KiB), a TLS one, or any with `relay_threads: 0`, stays on its
    /// two channels (~5.2 KiB). Returns the bytes and how they were counted.
    func userBytes(_ spread: SessionSpread) -> (bytes: Double, basis: String) {
        let relays = configuration.relayThreadCount(eventLoops: 1) > 0
        var relayed = 0
        var onChannels = 0
        for (share, listener) in zip(spread.listeners, configuration.listeners) {
            if relays && listener.tls == nil { relayed += share.sessions } else { onChannels += share.sessions }
        }
        let bytes =
            Double(relayed) * Self.userBytesPerRelayedSession + Double(onChannels) * Self.userBytesPerChannelSession
        let basis: String
        switch (relayed, onChannels) {
        case (_, 0): basis = "~1.1 KiB per session on a relay thread"
        case (0, _): basis = relays ? "~5.2 KiB per TLS session" : "~5.2 KiB per session, relay_threads: 0"
        default:
            basis =
                "~1.1 KiB x \(TuneFormat.count(relayed)) on relay threads, ~5.2 KiB x \(TuneFormat.count(onChannels)) TLS"
        }
        return (bytes, basis)
    }

    /// Kernel socket memory plus the front's own, against the machine's RAM (brokers not counted).
    func memoryCheck(_ spread: SessionSpread) -> TuneCheck {
        let (user, basis) = userBytes(spread)
        let total = kernelBytes(spread) + user
        let need =
            "\(TuneFormat.bytes(kernelBytes(spread))) kernel + \(TuneFormat.bytes(user)) front (\(basis)) = "
            + TuneFormat.bytes(total) + ", brokers not counted"
        guard let memory = host.memoryTotal else {
            return TuneCheck(.warn, "memory", found: "MemTotal could not be read", needed: need)
        }
        let found = "\(TuneFormat.bytes(Double(memory))) RAM"
        let share = total / Double(memory)
        if share > 0.9 {
            return TuneCheck(.fail, "memory", found: found, needed: need + " (\(TuneFormat.percent(share)))")
        }
        if share > 0.5 {
            return TuneCheck(.warn, "memory", found: found, needed: need + " (\(TuneFormat.percent(share)))")
        }
        return TuneCheck(.ok, "memory", found: found, needed: need)
    }
}
