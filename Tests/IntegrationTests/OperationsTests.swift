import Foundation
import FrontControl
import FrontTesting
import Testing

/// What operators run the executable with: `--version`, process metrics, `/healthz` through a drain,
/// the `health` subcommand and the systemd readiness datagram.
@Suite("Operations: version, process metrics, health, systemd readiness")
struct OperationsTests {
    /// A config with an admin plane on `adminPort` and a 60 s drain (sessions outlive the first SIGTERM).
    static func config(brokerPort: Int, adminPort: Int, drain: String = "60s") -> String {
        ExecutableTests.goodConfig(brokerPort: brokerPort).replacingOccurrences(
            of: "drain_timeout: 1s", with: "drain_timeout: \(drain)\nadmin:\n  bind: 127.0.0.1:\(adminPort)")
    }

    @Test("--version prints the build's version and exits 0")
    func version() async throws {
        let result = try await CommandLineTool.run(
            try ExecutableTests.executable(), ["--version"], timeout: .seconds(10))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == BuildInfo.version)
    }

    @Test("/metrics has the process-collector metrics read from /proc and brokerfront_build_info{version}")
    func processMetrics() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "process-metrics")
            defer { directory.remove() }
            let adminPort = FreePort.next()
            let file = try directory.write(
                Self.config(brokerPort: broker.port, adminPort: adminPort, drain: "1s"), to: "front.yaml")
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, _ in
                let text = try await HTTPTestClient.get(port: adminPort, path: "/metrics").body
                let open = try #require(PrometheusText.value(of: "process_open_fds", in: text), "\(text)")
                let max = try #require(PrometheusText.value(of: "process_max_fds", in: text))
                var limit = rlimit()
                getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
                let openNow = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd").count
                #expect(open >= 5 && abs(open - Double(openNow)) < 20, "open \(open), /proc says \(openNow)")
                #expect(max > open)
                let rss = try #require(PrometheusText.value(of: "process_resident_memory_bytes", in: text))
                #expect(rss > 1_000_000 && rss < 4_000_000_000)
                let cpu = try #require(PrometheusText.value(of: "process_cpu_seconds_total", in: text))
                #expect(cpu > 0 && cpu < 600)
                let start = try #require(PrometheusText.value(of: "process_start_time_seconds", in: text))
                let now = Date().timeIntervalSince1970
                #expect(start <= now + 1 && start > now - 120, "start \(start), now \(now)")
                #expect(text.contains("# TYPE process_cpu_seconds_total counter"))
                #expect(
                    PrometheusText.value(of: "brokerfront_build_info", labels: ["version": BuildInfo.version], in: text)
                        == 1, "\(text)")
            }
        }
    }

    @Test(
        "/healthz: 200 serving while the listeners accept, 503 draining from SIGTERM on; `health` exits 0, then 1"
    )
    func healthzThroughDrain() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "healthz")
            defer { directory.remove() }
            let adminPort = FreePort.next()
            // `move_rate: 0`: the session stays through the drain instead of moving off at once.
            let config = Self.config(brokerPort: broker.port, adminPort: adminPort).replacingOccurrences(
                of: "balance: client-id", with: "balance: client-id\n    move_rate: 0")
            let file = try directory.write(config, to: "front.yaml")
            let executable = try ExecutableTests.executable()
            let url = "http://127.0.0.1:\(adminPort)/healthz"
            // Nothing listens yet: the probe fails, naming the address.
            let before = try await CommandLineTool.run(executable, ["health", "--url", url], timeout: .seconds(10))
            #expect(before.status == 1)
            #expect(before.stderr.contains("connect to 127.0.0.1:\(adminPort)"), "\(before.stderr)")

            let child = try ChildProcess.launch(executable, ["run", "--config", file], outputDirectory: directory.path)
            do {
                #expect(await child.waitForOutput(containing: "listening ", timeout: .seconds(10)))
                let port = try #require(ExecutableTests.boundPort(in: child.stderrText()), "\(child.stderrText())")
                #expect(await Poll.until(timeout: .seconds(5)) { await PortProbe.accepts(port: adminPort) })
                let serving = try await HTTPTestClient.get(port: adminPort, path: "/healthz")
                #expect(serving.status == 200)
                #expect(serving.body == #"{"status":"serving"}"#)
                let probe = try await CommandLineTool.run(executable, ["health", "--url", url], timeout: .seconds(10))
                #expect(probe.status == 0, "\(probe.stderr)")
                #expect(probe.stdout.contains("200 {\"status\":\"serving\"}"), "\(probe.stdout)")

                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "healthz-1")
                #expect(code == 0)
                child.send(signal: SIGTERM)
                #expect(await child.waitForOutput(containing: "draining", timeout: .seconds(5)))
                let draining = try await HTTPTestClient.get(port: adminPort, path: "/healthz")
                #expect(draining.status == 503)
                #expect(draining.body == #"{"status":"draining"}"#)
                let refused = try await CommandLineTool.run(
                    executable, ["health", "--url", url], timeout: .seconds(10))
                #expect(refused.status == 1)
                #expect(refused.stdout.contains("503"), "\(refused.stdout)")
                // The session is still served during the drain.
                #expect(await client.connection.closedAt() == nil)
                child.send(signal: SIGTERM)
                #expect(await child.waitForExit(timeout: .seconds(10)) == 0, "\(child.stderrText())")
                await client.close()
            } catch {
                await child.stop()
                throw error
            }
            await child.stop()
        }
    }

    @Test("config/sysctl.d/60-brokerfront.conf is exactly what tune --baseline --sysctl prints for the shipped config")
    func sysctlFileMatchesTune() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = root.appendingPathComponent("config/sysctl.d/60-brokerfront.conf").path
        let shipped = try String(contentsOfFile: file, encoding: .utf8)
        let result = try await CommandLineTool.run(
            try ExecutableTests.executable(),
            [
                "tune", "--config", root.appendingPathComponent("config/brokerfront.yaml").path, "--baseline",
                "--sysctl",
            ],
            timeout: .seconds(10))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == shipped)
        // Global limits are never pinned by the shipped file: systemd raises them at boot.
        let active = shipped.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(!active.contains { $0.hasPrefix("fs.") || $0.hasPrefix("net.ipv4.tcp_mem") }, "\(active)")
    }

    @Test("health refuses a URL it cannot use, before any connection")
    func healthBadURL() async throws {
        let result = try await CommandLineTool.run(
            try ExecutableTests.executable(), ["health", "--url", "https://127.0.0.1:8404/healthz"],
            timeout: .seconds(10))
        #expect(result.status != 0)
        #expect(result.stderr.contains("--url must look like"), "\(result.stderr)")
    }

    @Test("NOTIFY_SOCKET: READY=1 once the listeners accept, STOPPING=1 when SIGTERM arrives")
    func systemdReadiness() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "notify")
            defer { directory.remove() }
            let socket = try DatagramSocket(path: "\(directory.path)/notify.sock")
            defer { socket.close() }
            let port = FreePort.next()
            let file = try directory.write(
                ExecutableTests.goodConfig(brokerPort: broker.port, port: port), to: "front.yaml")
            let child = try ChildProcess.launch(
                try ExecutableTests.executable(), ["run", "--config", file], outputDirectory: directory.path,
                environment: ["NOTIFY_SOCKET": socket.path])
            let ready = await socket.receive(timeout: .seconds(10))
            #expect(ready == "READY=1", "\(child.stderrText())")
            // Told only after the bind: the listener accepts now.
            #expect(await PortProbe.accepts(port: port))
            child.send(signal: SIGTERM)
            #expect(await socket.receive(timeout: .seconds(10)) == "STOPPING=1")
            #expect(await child.waitForExit(timeout: .seconds(10)) == 0, "\(child.stderrText())")
            await child.stop()
        }
    }
}
