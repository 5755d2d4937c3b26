import Foundation
import FrontTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EdgeLoadTests {
    /// Connections that never send a CONNECT, in the thousands, next to real traffic. The front runs as
    /// its own process (the built `brokerfront run`), so its memory can be read from /proc/PID/status
    /// without the test process's own allocations; the 5,000 silent sockets come from two Python
    /// processes (``EdgeScripts/silentHolder``) bound to 127.0.7.1–8.
    @Suite("Hostile clients")
    struct HostileClientTests {
        static func frontConfig(port: Int, adminPort: Int, brokerPort: Int) -> String {
            """
            log:
              level: info
              format: text
            drain_timeout: 1s
            admin:
              bind: 127.0.0.1:\(adminPort)
            listeners:
              - name: mqtt
                bind: 127.0.0.1:\(port)
                protocol: mqtt
                backend: brokers
                connect_timeout: 2s
            backends:
              - name: brokers
                balance: client-id
                connect_timeout: 5s
                servers:
                  - name: b1
                    address: 127.0.0.1:\(brokerPort)

            """
        }

        @Test("5,000 silent connections are closed at connect_timeout while 100 publishers flow; memory stays bounded")
        func silentFlood() async throws {
            let directory = try TemporaryDirectory(prefix: "hostile")
            defer { directory.remove() }
            let script = try PythonTool.write(EdgeScripts.silentHolder, named: "silent.py", in: directory)
            let executable = try ExecutableTests.executable()
            try await withMosquitto { broker in
                let port = FreePort.next()
                let adminPort = FreePort.next()
                let file = try directory.write(
                    Self.frontConfig(port: port, adminPort: adminPort, brokerPort: broker.port), to: "front.yaml")
                let front = try ChildProcess.launch(
                    executable, ["run", "--config", file], outputDirectory: directory.path, name: "front")
                try await withStopList { stops in
                    stops.add { await front.stop() }
                    try #require(
                        await PortProbe.waitUntilAccepting(port: port, timeout: .seconds(10)) { front.isRunning },
                        "\(front.stderrText())")
                    try #require(await PortProbe.waitUntilAccepting(port: adminPort, timeout: .seconds(5)))

                    let (subscriber, subscriberCode) = try await MQTTTestClient.connect(port: port, clientID: "sink")
                    #expect(subscriberCode == 0)
                    try await subscriber.subscribe("load/#")
                    let publishers = try await connectMany(
                        port: port, ids: (0..<100).map { "pub-\($0)" }, concurrency: 20)
                    let rssBefore = try #require(ProcessMemory.residentKiB(pid: front.pid))

                    let clock = ContinuousClock()
                    let floodStart = clock.now
                    var holders: [ChildProcess] = []
                    for (index, sources) in [
                        "127.0.7.1,127.0.7.2,127.0.7.3,127.0.7.4", "127.0.7.5,127.0.7.6,127.0.7.7,127.0.7.8",
                    ]
                    .enumerated() {
                        let holder = try ChildProcess.launch(
                            PythonTool.interpreter, [script, "127.0.0.1", "\(port)", "2500", sources, "30"],
                            outputDirectory: directory.path, name: "silent\(index)")
                        stops.add { await holder.stop() }
                        holders.append(holder)
                    }

                    // 100 publishers, one QoS 0 message each every 100 ms for 6 s, to one subscriber.
                    let rounds = 60
                    let expected = rounds * publishers.count
                    async let received = Self.countPublishes(subscriber, expected: expected, timeout: .seconds(30))
                    var peak = rssBefore
                    var publishErrors: [String] = []
                    for round in 0..<rounds {
                        for (index, publisher) in publishers.enumerated() {
                            do {
                                try await publisher.publish(topic: "load/\(index)", payload: Array("\(round)".utf8))
                            } catch {
                                publishErrors.append("pub-\(index): \(error)")
                            }
                        }
                        peak = max(peak, ProcessMemory.residentKiB(pid: front.pid) ?? 0)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    let delivered = await received
                    #expect(publishErrors.isEmpty, "\(publishErrors.prefix(5))")
                    #expect(delivered == expected, "\(delivered) of \(expected) messages arrived")

                    let done = await Poll.until(timeout: .seconds(20), interval: .milliseconds(100)) {
                        peak = max(peak, ProcessMemory.residentKiB(pid: front.pid) ?? 0)
                        return holders.allSatisfy { !scriptRecords($0.stdoutText(), tag: "DONE").isEmpty }
                    }
                    try #require(done, "\(holders.map { $0.stdoutText() + $0.stderrText() })")
                    let opened = holders.map { scriptRecords($0.stdoutText(), tag: "OPENED")[0] }
                    let results = holders.map { scriptRecords($0.stdoutText(), tag: "DONE")[0] }
                    print(
                        "hostile: opened \(opened), done \(results) (\(clock.now - floodStart) after the flood began)")
                    #expect(opened.reduce(0) { $0 + (Int($1["ok"] ?? "") ?? 0) } == 5000, "\(opened)")
                    for result in results {
                        #expect(result["open"] == "0" && result["data"] == "0", "\(result)")
                        // Closed at the 2 s deadline, never before: the front's deadline starts at its
                        // accept, which comes after the client's connect call `held` is measured from.
                        #expect((Double(result["min_held"] ?? "") ?? 0) >= 1.9, "\(result)")
                        #expect((Double(result["max_held"] ?? "") ?? 99) < 15, "\(result)")
                    }

                    let metrics = try await HTTPTestClient.get(port: adminPort, path: "/metrics")
                    let timeouts = PrometheusText.value(
                        of: "brokerfront_connections_rejected_total", labels: ["reason": "connect_timeout"],
                        in: metrics.body)
                    #expect(timeouts == 5000, "\(metrics.body)")
                    #expect(
                        PrometheusText.value(
                            of: "brokerfront_connections_active", labels: ["listener": "mqtt"], in: metrics.body)
                            == 101)
                    let timeoutLines = front.stderrText().split(separator: "\n").filter {
                        $0.contains("session closed") && $0.contains("reason=connect_timeout")
                    }
                    #expect(timeoutLines.count == 5000)

                    // The real clients saw nothing of it.
                    for publisher in publishers {
                        #expect(await publisher.connection.closedAt() == nil)
                    }
                    #expect(await subscriber.connection.closedAt() == nil)
                    let rssAfter = ProcessMemory.residentKiB(pid: front.pid) ?? 0
                    let growthMiB = Double(peak - rssBefore) / 1024
                    print(
                        "hostile: front RSS before \(rssBefore) KiB, peak \(peak) KiB, after \(rssAfter) KiB, "
                            + "peak growth \(String(format: "%.1f", growthMiB)) MiB")
                    #expect(growthMiB < 150 * ProcessMemory.boundFactor, "RSS grew by \(growthMiB) MiB")

                    await disconnectAll(publishers + [subscriber])
                    front.send(signal: SIGTERM)
                    #expect(await front.waitForExit(timeout: .seconds(10)) == 0, "\(front.stderrText().suffix(2000))")
                }
            }
        }

        /// Counts PUBLISH packets arriving at `subscriber` until `expected` or `timeout`.
        static func countPublishes(_ subscriber: MQTTTestClient, expected: Int, timeout: Duration) async -> Int {
            let deadline = ContinuousClock.now + timeout
            var count = 0
            while count < expected, ContinuousClock.now < deadline {
                guard (try? await subscriber.nextPublish(timeout: deadline - ContinuousClock.now)) != nil else { break }
                count += 1
            }
            return count
        }
    }
}
