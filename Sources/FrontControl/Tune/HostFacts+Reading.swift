import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HostFacts {
    /// The facts of this host and process now: `getrlimit(RLIMIT_NOFILE)`, `/proc/sys/...`, `/proc/meminfo`
    /// and `getifaddrs`. Blocking file reads; call it from the command line, not from an event loop.
    public static func current() -> HostFacts {
        var limit = rlimit()
        let haveLimit = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0
        let range = numbers("net/ipv4/ip_local_port_range")
        #if os(Linux)
            let linux = true
        #else
            let linux = false
        #endif
        return HostFacts(
            nofileSoft: haveLimit ? UInt64(limit.rlim_cur) : nil,
            nofileHard: haveLimit ? UInt64(limit.rlim_max) : nil,
            nrOpen: numbers("fs/nr_open")?.first,
            fileMax: numbers("fs/file-max")?.first,
            portRange: range.flatMap { $0.count == 2 && $0[0] <= $0[1] ? Int($0[0])...Int($0[1]) : nil },
            somaxconn: numbers("net/core/somaxconn")?.first.map(Int.init),
            tcpMaxSynBacklog: numbers("net/ipv4/tcp_max_syn_backlog")?.first.map(Int.init),
            tcpTwReuse: numbers("net/ipv4/tcp_tw_reuse")?.first.map(Int.init),
            tcpMem: numbers("net/ipv4/tcp_mem").flatMap { $0.count == 3 ? $0 : nil },
            tcpRmem: numbers("net/ipv4/tcp_rmem").flatMap { $0.count == 3 ? $0 : nil },
            tcpWmem: numbers("net/ipv4/tcp_wmem").flatMap { $0.count == 3 ? $0 : nil },
            conntrackMax: numbers("net/netfilter/nf_conntrack_max")?.first,
            conntrackCount: numbers("net/netfilter/nf_conntrack_count")?.first,
            memoryTotal: memoryTotal(),
            pageSize: UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1)),
            interfaceAddresses: interfaceAddresses(),
            loopbackCoversSlash8: linux, cpus: System.coreCount)
    }

    /// The whitespace-separated unsigned numbers in `/proc/sys/<key>`, or nil when it cannot be read.
    static func numbers(_ key: String) -> [UInt64]? {
        guard let text = try? String(contentsOfFile: "/proc/sys/" + key, encoding: .utf8) else { return nil }
        let values = text.split(whereSeparator: \.isWhitespace).map { UInt64($0) }
        guard !values.isEmpty, !values.contains(nil) else { return nil }
        return values.compactMap { $0 }
    }

    /// `MemTotal` in bytes, from `/proc/meminfo` (`MemTotal:  24576000 kB`).
    static func memoryTotal() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count >= 2, let kib = UInt64(fields[1]) { return kib * 1024 }
        }
        return nil
    }

    /// Every IPv4 and IPv6 address on an interface, in `inet_ntop` form (IPv6 without a zone).
    static func interfaceAddresses() -> [String] {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var result: [String] = []
        var cursor = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                var sin = sockaddr_in()
                memcpy(&sin, address, MemoryLayout<sockaddr_in>.size)
                if let text = IPAddressText.format(family: AF_INET, bytes: &sin.sin_addr) { result.append(text) }
            case AF_INET6:
                var sin6 = sockaddr_in6()
                memcpy(&sin6, address, MemoryLayout<sockaddr_in6>.size)
                if let text = IPAddressText.format(family: AF_INET6, bytes: &sin6.sin6_addr) { result.append(text) }
            default:
                continue
            }
        }
        return result
    }
}
