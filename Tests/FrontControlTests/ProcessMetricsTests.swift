import Testing

@testable import FrontControl

/// The process-collector metrics parsed from `/proc/self/stat` and `/proc/stat` text.
@Suite("Process metrics")
struct ProcessMetricsTests {
    /// A stat line whose command name holds a space and a parenthesis (proc(5) allows both).
    static let stat =
        "4242 (broker front)) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 150 0 0 20 0 9 0 123400 "
        + "1073741824 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0"

    @Test("CPU seconds, start time, resident and virtual memory from the stat line and btime")
    func parses() throws {
        let btime = try #require(ProcessMetrics.bootTime(procStat: "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"))
        #expect(btime == 1_700_000_000)
        let sample = try #require(
            ProcessMetrics.parse(stat: Self.stat, bootTime: btime, ticksPerSecond: 100, pageSize: 4096))
        #expect(sample.cpuSeconds == 4)
        #expect(sample.startTime == 1_700_001_234)
        #expect(sample.residentBytes == 5000 * 4096)
        #expect(sample.virtualBytes == 1_073_741_824)
    }

    @Test("a line that is not a stat line gives nothing")
    func refuses() {
        #expect(ProcessMetrics.parse(stat: "", bootTime: 0, ticksPerSecond: 100, pageSize: 4096) == nil)
        #expect(ProcessMetrics.parse(stat: "1 (x) S 1 2", bootTime: 0, ticksPerSecond: 100, pageSize: 4096) == nil)
        #expect(ProcessMetrics.bootTime(procStat: "cpu 1 2 3\n") == nil)
    }

    @Test("the text exposition: TYPE lines, the build info, whole numbers without a fraction")
    func renders() {
        let text = ProcessMetrics.render(
            ProcessMetrics.Sample(
                cpuSeconds: 1.25, startTime: 1_700_001_234, residentBytes: 4096, virtualBytes: 8192, openFDs: 12,
                maxFDs: 1024),
            version: "9.9.9")
        #expect(text.contains("brokerfront_build_info{version=\"9.9.9\"} 1\n"))
        #expect(text.contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.250\n"))
        #expect(text.contains("process_open_fds 12\n"))
        #expect(text.contains("process_max_fds 1024\n"))
        #expect(text.contains("process_start_time_seconds 1700001234\n"))
        #expect(ProcessMetrics.render(nil, version: "1").contains("process_") == false)
    }
}
