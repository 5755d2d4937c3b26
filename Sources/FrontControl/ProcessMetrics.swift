import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The Prometheus process-collector metrics (`process_open_fds`, `process_max_fds`,
/// `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_cpu_seconds_total`,
/// `process_start_time_seconds`) read from `/proc` at each scrape, and `brokerfront_build_info`.
public enum ProcessMetrics {
    /// One reading of the process's counters.
    public struct Sample: Sendable, Equatable {
        /// User plus system CPU time, in seconds.
        public var cpuSeconds: Double
        /// Start time as seconds since the Unix epoch.
        public var startTime: Double
        /// Resident set size in bytes.
        public var residentBytes: Double
        /// Virtual memory size in bytes.
        public var virtualBytes: Double
        /// Descriptors open now; nil when `/proc/self/fd` cannot be read.
        public var openFDs: Double?
        /// The soft RLIMIT_NOFILE.
        public var maxFDs: Double?
    }

    /// Parses `/proc/self/stat` (proc(5): utime, stime, starttime in clock ticks, vsize in bytes,
    /// rss in pages) with `btime` from `/proc/stat`; nil when the text is not a stat line.
    public static func parse(stat: String, bootTime: Double, ticksPerSecond: Double, pageSize: Double) -> Sample? {
        // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state): field N is fields[N - 3].
        guard fields.count > 21, ticksPerSecond > 0,
            let utime = Double(fields[11]), let stime = Double(fields[12]),
            let start = Double(fields[19]), let vsize = Double(fields[20]), let rss = Double(fields[21])
        else { return nil }
        return Sample(
            cpuSeconds: (utime + stime) / ticksPerSecond, startTime: bootTime + start / ticksPerSecond,
            residentBytes: rss * pageSize, virtualBytes: vsize, openFDs: nil, maxFDs: nil)
    }

    /// `btime` (boot time, seconds since the epoch) from the text of `/proc/stat`.
    public static func bootTime(procStat: String) -> Double? {
        for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Reads this process's counters; nil off Linux or when `/proc` is not mounted.
    public static func current() -> Sample? {
        #if os(Linux)
            guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
                let procStat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
                let boot = bootTime(procStat: procStat),
                var sample = parse(
                    stat: stat, bootTime: boot, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
                    pageSize: Double(sysconf(Int32(_SC_PAGESIZE))))
            else { return nil }
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
                sample.openFDs = Double(entries.count)
            }
            var limit = rlimit()
            if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                sample.maxFDs = Double(limit.rlim_cur)
            }
            return sample
        #else
            return nil
        #endif
    }

    /// The Prometheus text exposition of `sample` (nothing for nil) and of the build info.
    public static func render(_ sample: Sample?, version: String = BuildInfo.version) -> String {
        var text = """
            # HELP brokerfront_build_info The running brokerfront's version; always 1.
            # TYPE brokerfront_build_info gauge
            brokerfront_build_info{version="\(version)"} 1

            """
        guard let sample else { return text }
        func add(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        add(
            "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
            sample.cpuSeconds)
        add("process_open_fds", "gauge", "Number of open file descriptors.", sample.openFDs)
        add("process_max_fds", "gauge", "Maximum number of open file descriptors.", sample.maxFDs)
        add("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", sample.residentBytes)
        add("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", sample.virtualBytes)
        add(
            "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
            sample.startTime)
        return text
    }

    /// Whole numbers without a fraction, others with up to 3 decimals (CPU seconds, start time).
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.3f", value)
    }
}
