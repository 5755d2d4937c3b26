import Foundation
import FrontConfig
import FrontProxy
import FrontTesting
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EdgeLoadTests {
    /// Issue 7, fault injection on real processes: the front is the built `brokerfront run` (a
    /// ``FrontProcess``), brokers are real mosquitto processes, the faults are real (SIGKILL, SIGSTOP,
    /// a socket that never answers, a low RLIMIT_NOFILE, SIGHUP, SIGTERM), and the clients are Python
    /// processes (``FaultScripts/sessions``) so thousands of sockets stay out of the test process. Nested
    /// in ``EdgeLoadTests`` so they never run alongside the other load tests.
    @Suite("Faults")
    struct FaultTests {
        /// The usual front: one mqtt listener on `ports[0]` in front of `brokers`, admin on, info logs.
        static func frontYAML(
            ports: [Int], adminPort: Int, brokers: [Int], drain: String = "2s", connectTimeout: String = "10s",
            listener: String = "", backend: String = ""
        ) -> String {
            var yaml = """
                log:
                  level: info
                  format: text
                drain_timeout: \(drain)
                admin:
                  bind: 127.0.0.1:\(adminPort)
                listeners:
                  - name: mqtt
                    bind: 127.0.0.1:\(ports[0])
                    protocol: mqtt
                    backend: brokers
                    connect_timeout: \(connectTimeout)

                """
            yaml += listener
            yaml += """
                backends:
                  - name: brokers
                    balance: client-id
                    connect_timeout: 3s

                """
            yaml += backend
            yaml += "    servers:\n"
            for (index, port) in brokers.enumerated() {
                yaml += "      - name: b\(index + 1)\n        address: 127.0.0.1:\(port)\n"
            }
            return yaml
        }

        /// The descriptors `frontYAML`'s front keeps besides sessions on this host (its admin plane,
        /// one listener, the event loops and relay threads the host gives it).
        static var descriptorReserve: Int {
            let configuration = FrontConfiguration(
                admin: AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 0)),
                listeners: [
                    ListenerConfig(name: "mqtt", bind: Endpoint(host: "127.0.0.1", port: 0), backend: "brokers")
                ],
                backends: [BackendConfig(name: "brokers")])
            return Int(FileDescriptorLimit.reserve(for: configuration, eventLoops: System.coreCount))
        }

        /// Client ids (with `prefix`) a mosquitto accepted so far.
        static func ids(on broker: MosquittoProcess, prefix: String) -> Set<String> {
            Set(broker.clientsConnected().map(\.clientID).filter { $0.hasPrefix(prefix) })
        }

        // MARK: Broker killed mid-stream

        @Test(
            "a broker is SIGKILLed while 200 clients publish: the front runs on, its sessions end server_closed/server_down, the clients reconnect to the survivor and lose nothing more"
        )
        func brokerKilledMidStream() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-kill")
            defer { directory.remove() }
            let clock = ContinuousClock()
            try await withStopList { stops in
                var brokers: [MosquittoProcess] = []
                for _ in 0..<2 {
                    let broker = try await MosquittoProcess.start()
                    stops.add { await broker.stop() }
                    brokers.append(broker)
                }
                let check = """
                        retries: 2
                        health_check:
                          type: mqtt
                          interval: 250ms
                          timeout: 1s
                          rise: 1
                          fall: 2
                        on_server_down: close

                    """
                let front = try await FrontProcess.start(in: directory) { ports, admin in
                    Self.frontYAML(ports: ports, adminPort: admin, brokers: brokers.map(\.port), backend: check)
                }
                stops.add { await front.stop() }
                try #require(
                    await Poll.until(timeout: .seconds(5)) {
                        let b1 = await front.metric("brokerfront_server_up", ["server": "b1"])
                        let b2 = await front.metric("brokerfront_server_up", ["server": "b2"])
                        return b1 == 1 && b2 == 1
                    })

                let script = try SessionScript.start(
                    in: directory, name: "k", port: front.port,
                    [
                        "--count", "200", "--inflight", "50", "--echo", "--publish-interval", "0.1", "--reconnect",
                        "0.2", "--lifetime", "90",
                    ])
                stops.add { await script.stop() }
                let ready = try #require(
                    await script.wait(for: "READY", timeout: .seconds(30)), "\(script.diagnostics)")
                #expect(ready.int("ok") == 200, "\(ready)")
                // The brokers' logs show every session.
                let logged = await Poll.until(timeout: .seconds(10), interval: .milliseconds(100)) {
                    Self.ids(on: brokers[0], prefix: "k-").count + Self.ids(on: brokers[1], prefix: "k-").count == 200
                }
                #expect(logged)
                let onB1 = Self.ids(on: brokers[0], prefix: "k-")
                #expect(onB1.count > 40 && onB1.count < 160, "\(onB1.count) of 200 on b1")
                let beforeKill = try #require(await script.stats())

                let killedAt = clock.now
                kill(brokers[0].pid, SIGKILL)
                let allClosed = await Poll.until(timeout: .seconds(10), interval: .milliseconds(20)) {
                    script.records("CLOSED").count >= onB1.count
                }
                let closeTime = clock.now - killedAt
                #expect(allClosed, "\(script.records("CLOSED").count) of \(onB1.count) closes seen")
                let allBack = await Poll.until(timeout: .seconds(15), interval: .milliseconds(20)) {
                    Set(script.records("RECONNECTED").compactMap { $0["id"] }).isSuperset(of: onB1)
                }
                let reconnectTime = clock.now - killedAt
                #expect(allBack, "\(script.records("RECONNECTED").count) of \(onB1.count) reconnected")

                // Exactly b1's sessions ended, each as server_closed or server_down, and came back on b2.
                let closedIDs = Set(script.records("CLOSED").compactMap { $0["id"] })
                expectMeasured(closedIDs == onB1, "sessions of the surviving broker were closed")
                #expect(front.isRunning)
                let lines = front.sessionsClosed.filter { $0["client_id"]?.hasPrefix("k-") == true }
                expectMeasured(Set(lines.compactMap { $0["client_id"] }) == onB1, "front closed others")
                expectMeasured(lines.allSatisfy { $0["server"] == "b1" }, "sessions of b2 closed")
                var reasons: [String: Int] = [:]
                for line in lines { reasons[line["reason"] ?? "?", default: 0] += 1 }
                expectMeasured(Set(reasons.keys).isSubset(of: ["server_closed", "server_down"]), "\(reasons)")
                #expect(Self.ids(on: brokers[1], prefix: "k-").isSuperset(of: onB1))
                expectMeasured(script.records("REFAIL").isEmpty, "\(script.records("REFAIL").prefix(5))")

                // Publishing goes on through the survivor; nothing is lost on any open session.
                var after = try #require(await script.stats())
                let goesOn = await Poll.until(timeout: .seconds(10), interval: .milliseconds(200)) {
                    if let now = await script.stats() { after = now }
                    return after.int("recv") > beforeKill.int("recv") + 1000
                }
                #expect(goesOn, "\(beforeKill) -> \(after)")
                let final = try #require(await script.finish(), "\(script.diagnostics)")
                #expect(final.int("open") == 200 && final.int("outstanding") == 0, "\(final)")
                expectMeasured(final.int("closed") == onB1.count, "\(final)")
                print(
                    "fault kill: \(onB1.count) sessions on b1; all closed \(closeTime) and reconnected "
                        + "\(reconnectTime) after SIGKILL; reasons \(reasons); QoS 0 messages in flight at the kill "
                        + "\(final.int("lost_closed")); final \(final)")
                front.child.send(signal: SIGTERM)
                expectCleanExit(await front.child.waitForExit(timeout: .seconds(10)), String(front.log.suffix(1500)))
            }
        }

        // MARK: A server that accepts TCP and never answers

        @Test(
            "a server that accepts TCP but never answers: the mqtt check times out, it never comes up; clients land on the other server, or get Server unavailable (3 / 0x88) when it is alone"
        )
        func silentServerChecked() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-mute-check")
            defer { directory.remove() }
            let mute = try SilentListener(backlog: 128)
            defer { mute.close() }
            try await withMosquitto { broker in
                // Interpolated on a line of its own: its lines carry their own indentation.
                let check = """
                        health_check:
                          type: mqtt
                          interval: 200ms
                          timeout: 300ms
                          rise: 1
                          fall: 1
                    """
                let front = try await FrontProcess.start(in: directory, listeners: 2) { ports, admin in
                    """
                    log:
                      level: info
                    drain_timeout: 1s
                    admin:
                      bind: 127.0.0.1:\(admin)
                    listeners:
                      - name: mixed
                        bind: 127.0.0.1:\(ports[0])
                        backend: mixed
                      - name: alone
                        bind: 127.0.0.1:\(ports[1])
                        backend: alone
                    backends:
                      - name: mixed
                        balance: first
                    \(check)
                        servers:
                          - name: mute
                            address: 127.0.0.1:\(mute.port)
                          - name: real
                            address: 127.0.0.1:\(broker.port)
                      - name: alone
                    \(check)
                        servers:
                          - name: mute
                            address: 127.0.0.1:\(mute.port)

                    """
                }
                try await withStopping(front, stop: { await $0.stop() }) { front in
                    try #require(
                        await Poll.until(timeout: .seconds(5)) {
                            let real = await front.metric(
                                "brokerfront_server_up", ["backend": "mixed", "server": "real"])
                            let failed = await front.metric(
                                "brokerfront_health_checks_total",
                                ["backend": "alone", "server": "mute", "result": "fail"])
                            return real == 1 && (failed ?? 0) >= 3
                        })
                    #expect(await front.metric("brokerfront_server_up", ["backend": "mixed", "server": "mute"]) == 0)
                    let status = try await HTTPTestClient.get(port: front.adminPort, path: "/status").body
                    #expect(status.contains("timeout") || status.contains("timed out"), "\(status)")

                    // First in list order is mute, but it is down: the client lands on the real broker.
                    let clock = ContinuousClock()
                    let started = clock.now
                    let (client, code) = try await MQTTTestClient.connect(port: front.ports[0], clientID: "mute-1")
                    let landed = clock.now - started
                    #expect(code == 0)
                    #expect(broker.clientsConnected().contains { $0.clientID == "mute-1" })
                    await client.disconnect()

                    // Alone: Server unavailable at once, then the close.
                    let (v3, v3Code) = try await MQTTTestClient.connect(port: front.ports[1], clientID: "mute-2")
                    #expect(v3Code == 3)
                    #expect(await v3.connection.waitForClose(timeout: .seconds(2)))
                    let (v5, v5Code) = try await MQTTTestClient.connect(
                        port: front.ports[1], clientID: "mute-3", version: .v5)
                    #expect(v5Code == 0x88)
                    #expect(await v5.connection.waitForClose(timeout: .seconds(2)))
                    #expect(
                        await front.metric(
                            "brokerfront_connections_rejected_total", ["listener": "alone", "reason": "no_server"])
                            == 2)
                    print("fault mute (checked): landed on the real broker in \(landed); status \(status.prefix(600))")
                }
            }
        }

        @Test(
            "no check: a dial to a server whose accept queue is full times out at connect_timeout, the next server takes the client; alone, the client gets 0x88; accepted-but-mute ends at the idle deadline"
        )
        func silentServerUnchecked() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-mute")
            defer { directory.remove() }
            let blackhole = try SilentListener(backlog: 0)
            defer { blackhole.close() }
            blackhole.fillAcceptQueue(count: 2)
            let mute = try SilentListener(backlog: 128)
            defer { mute.close() }
            try await withMosquitto { broker in
                let front = try await FrontProcess.start(in: directory, listeners: 3) { ports, admin in
                    """
                    log:
                      level: info
                    drain_timeout: 1s
                    admin:
                      bind: 127.0.0.1:\(admin)
                    listeners:
                      - name: mixed
                        bind: 127.0.0.1:\(ports[0])
                        backend: mixed
                      - name: alone
                        bind: 127.0.0.1:\(ports[1])
                        backend: alone
                      - name: mute
                        bind: 127.0.0.1:\(ports[2])
                        backend: mute
                        keepalive_min: 1s
                    backends:
                      - name: mixed
                        balance: first
                        connect_timeout: 500ms
                        retries: 1
                        servers:
                          - name: blackhole
                            address: 127.0.0.1:\(blackhole.port)
                          - name: real
                            address: 127.0.0.1:\(broker.port)
                      - name: alone
                        connect_timeout: 500ms
                        retries: 0
                        servers:
                          - name: blackhole
                            address: 127.0.0.1:\(blackhole.port)
                      - name: mute
                        connect_timeout: 500ms
                        servers:
                          - name: mute
                            address: 127.0.0.1:\(mute.port)

                    """
                }
                try await withStopping(front, stop: { await $0.stop() }) { front in
                    let clock = ContinuousClock()
                    // The dial to the blackhole times out after 500 ms; the retry reaches the real broker.
                    // A timeout is ambiguous (an overloaded broker times out too), so it takes
                    // ServerHealthState.ambiguousDialFailuresForDown (3) of them in a row to mark it down;
                    // until then every client waits one connect_timeout.
                    var started = clock.now
                    var waits: [Duration] = []
                    for attempt in 1...3 {
                        started = clock.now
                        let (client, code) = try await MQTTTestClient.connect(
                            port: front.ports[0], clientID: "bh-\(attempt)")
                        waits.append(clock.now - started)
                        #expect(code == 0)
                        #expect(broker.clientsConnected().contains { $0.clientID == "bh-\(attempt)" })
                        await client.disconnect()
                    }
                    let failover = waits[0]
                    expectMeasured(
                        waits.allSatisfy { $0 >= .milliseconds(450) && $0 < .seconds(2) }, "\(waits)")
                    // Now it is down (passive back-off): the next client goes to the real broker at once.
                    #expect(front.count("server down") >= 1, "\(front.log.suffix(2000))")
                    started = clock.now
                    let (next, nextCode) = try await MQTTTestClient.connect(port: front.ports[0], clientID: "bh-4")
                    let direct = clock.now - started
                    #expect(nextCode == 0)
                    expectMeasured(direct < .milliseconds(300), "still waiting on the blackhole: \(direct)")
                    await next.disconnect()

                    // Alone: the one dial times out, then Server unavailable (5.0 reason 0x88) and the close.
                    started = clock.now
                    let (v5, v5Code) = try await MQTTTestClient.connect(
                        port: front.ports[1], clientID: "bh-5", version: .v5)
                    let refused = clock.now - started
                    #expect(v5Code == 0x88)
                    #expect(await v5.connection.waitForClose(timeout: .seconds(2)))
                    expectMeasured(refused >= .milliseconds(450) && refused < .seconds(2), "\(refused)")

                    // Accepted by the kernel but never answered, no check to notice: the CONNECT is relayed,
                    // no CONNACK ever comes, and the session ends at the client's idle deadline
                    // (keepalive 2 s × 1.5), reason idle_timeout.
                    let mutedClient = try await TestClient.connect(port: front.ports[2])
                    started = clock.now
                    try await mutedClient.send(MQTTTestBytes.connect(clientID: "mute-4", keepAlive: 2))
                    let silence = try await mutedClient.readUntilClose(timeout: .seconds(8))
                    let idle = clock.now - started
                    #expect(silence.isEmpty)
                    expectMeasured(idle >= .milliseconds(2800) && idle < .seconds(5), "\(idle)")
                    _ = await Poll.until(timeout: .seconds(2)) {
                        front.sessionsClosed.contains { $0["client_id"] == "mute-4" }
                    }
                    let line = front.sessionsClosed.first { $0["client_id"] == "mute-4" }
                    #expect(line?["reason"] == "idle_timeout", "\(String(describing: line))")
                    print(
                        "fault blackhole: clients waited \(waits) (one connect_timeout each) until the blackhole was down, "
                            + "then \(direct); failover after \(failover); alone refused after "
                            + "\(refused); accepted-but-mute closed after \(idle)")
                }
            }
        }

        // MARK: A broker that stops reading

        @Test(
            "a broker stops reading (SIGSTOP) while 100 sessions push 10 MB each: the front stops reading from them, its RSS stays bounded, and all bytes flow once it resumes"
        )
        func stalledBroker() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-stall")
            defer { directory.remove() }
            let sessions = 100
            let perSession = 10 * 1_048_576
            try await withStopList { stops in
                let broker = try await MosquittoProcess.start()
                stops.add {
                    kill(broker.pid, SIGCONT)
                    await broker.stop()
                }
                let front = try await FrontProcess.start(in: directory) { ports, admin in
                    Self.frontYAML(ports: ports, adminPort: admin, brokers: [broker.port])
                }
                stops.add { await front.stop() }
                let script = try SessionScript.start(
                    in: directory, name: "st", port: front.port,
                    [
                        "--count", "\(sessions)", "--inflight", "50", "--push", "\(perSession)", "--push-on-signal",
                        "--lifetime", "120", "--report", "0.25",
                    ])
                stops.add { await script.stop() }
                let ready = try #require(
                    await script.wait(for: "READY", timeout: .seconds(20)), "\(script.diagnostics)")
                #expect(ready.int("ok") == sessions)
                try await Task.sleep(for: .milliseconds(500))
                let rssBefore = try #require(front.residentKiB)

                kill(broker.pid, SIGSTOP)
                let clock = ContinuousClock()
                let pushStart = clock.now
                script.child.send(signal: SIGHUP)
                // Sample until the clients' progress has been flat for 2 s (everything buffered is full).
                var peak = rssBefore
                var lastPushed = -1
                var flatSince = clock.now
                while clock.now - pushStart < .seconds(30) {
                    peak = max(peak, front.residentKiB ?? 0)
                    let pushed = script.last("STATS")?.int("pushed") ?? 0
                    if pushed != lastPushed {
                        lastPushed = pushed
                        flatSince = clock.now
                    } else if pushed > 0, clock.now - flatSince >= .seconds(2) {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let stalled = try #require(script.last("STATS"), "\(script.diagnostics)")
                let frontIn = await front.metric("brokerfront_bytes_total", ["direction": "in"]) ?? -1
                for _ in 0..<20 {
                    peak = max(peak, front.residentKiB ?? 0)
                    try await Task.sleep(for: .milliseconds(100))
                }
                let frontInLater = await front.metric("brokerfront_bytes_total", ["direction": "in"]) ?? -1
                let stillStalled = try #require(script.last("STATS"), "\(script.diagnostics)")
                let total = sessions * perSession
                let growthMiB = Double(peak - rssBefore) / 1024
                print(
                    "fault stall: front RSS \(rssBefore) KiB before, peak \(peak) KiB while stalled "
                        + "(+\(String(format: "%.1f", growthMiB)) MiB for \(sessions) sessions); clients got "
                        + "\(stalled.int("pushed") / 1_048_576) MiB of \(total / 1_048_576) MiB into their sockets "
                        + "(the rest blocked), the front read \(Int(frontIn) / 1_048_576) MiB (all of it now in the "
                        + "kernel buffers toward the stopped broker); \(front.openDescriptors) fds")
                // The front stopped reading: neither the clients' progress nor the front's read counter moved
                // for 2 s although clients still have bytes to send. Some clients may have finished: their
                // whole 10 MB can fit in the kernel's buffers where `tcp_rmem` allows 32 MiB per socket (the
                // front's receive side grows while it reads, before the stop), so the front's counter is the
                // evidence, not how many clients finished.
                #expect(stalled.int("pushed") < total, "\(stalled)")
                // A few hundred KiB may still drain into socket buffers under load; the stream must not flow.
                #expect(
                    stillStalled.int("pushed") - stalled.int("pushed") < 4 * 1_048_576, "\(stalled) -> \(stillStalled)")
                #expect(frontIn > 0 && frontInLater == frontIn, "\(frontIn) -> \(frontInLater)")
                // What it read it did not keep: per session it holds at most a write buffer up to its
                // high-water mark and one read, so RSS grows with sessions, not with bytes.
                expectMeasured(growthMiB < 64 * ProcessMemory.boundFactor, "RSS grew \(growthMiB) MiB")
                #expect(stalled.int("closed") == 0)

                // The broker resumes: every byte gets through, no session was lost.
                kill(broker.pid, SIGCONT)
                let resumed = clock.now
                let done = await Poll.until(timeout: .seconds(120), interval: .milliseconds(200)) {
                    peak = max(peak, front.residentKiB ?? 0)
                    return (script.last("STATS")?.int("pushdone") ?? 0) == sessions
                }
                let drainTime = clock.now - resumed
                #expect(done, "\(script.last("STATS") ?? [:])")
                let final = try #require(await script.finish(), "\(script.diagnostics)")
                #expect(final.int("closed") == 0 && final.int("failed") == 0, "\(final)")
                let rssAfter = front.residentKiB ?? 0
                print(
                    "fault stall: after SIGCONT all \(total / 1_048_576) MiB relayed in \(drainTime); RSS peak "
                        + "overall \(peak) KiB, after \(rssAfter) KiB")
                front.child.send(signal: SIGTERM)
                expectCleanExit(await front.child.waitForExit(timeout: .seconds(10)), String(front.log.suffix(1500)))
            }
        }

        // MARK: The front at its descriptor limit

        /// How the front meets its descriptor limit.
        enum DescriptorScenario {
            /// Started under RLIMIT_NOFILE 256: it caps sessions at what fits (96) and pauses accepting there.
            case limitAtStart
            /// Started with 1,024, lowered to 256 under it (`prlimit --pid`): its cap (480) no longer fits;
            /// the front notices the new limit and caps sessions at what fits it, so descriptors
            /// stay free (the Swift runtime's thread pool traps when it cannot open a /proc file).
            case limitLoweredAtRuntime
        }

        static let descriptorLimit = 256

        /// Starts a front whose descriptor limit ends at 256 by `scenario`.
        func startLimitedFront(
            _ scenario: DescriptorScenario, in directory: TemporaryDirectory, broker: MosquittoProcess,
            connectTimeout: String = "5s"
        ) async throws -> FrontProcess {
            let front = try await FrontProcess.start(
                in: directory,
                descriptorLimit: scenario == .limitAtStart ? Self.descriptorLimit : 1024
            ) { ports, admin in
                Self.frontYAML(ports: ports, adminPort: admin, brokers: [broker.port], connectTimeout: connectTimeout)
            }
            if scenario == .limitLoweredAtRuntime {
                let lower = try ChildProcess.launch(
                    "prlimit", ["--pid", "\(front.pid)", "--nofile=\(Self.descriptorLimit):\(Self.descriptorLimit)"],
                    outputDirectory: directory.path, name: "prlimit")
                #expect(await lower.waitForExit(timeout: .seconds(10)) == 0, "\(lower.stderrText())")
                let limits = ChildProcess.readFile("/proc/\(front.pid)/limits")
                #expect(limits.contains("Max open files            256"), "\(limits)")
            }
            return front
        }

        /// 40 sessions echo-publishing 5 messages/s each through the front, all connected.
        func startKeepers(
            in directory: TemporaryDirectory, port: Int, lifetime: Int, stops: StopList
        ) async throws -> SessionScript {
            let keepers = try SessionScript.start(
                in: directory, name: "keep", port: port,
                [
                    "--count", "40", "--inflight", "20", "--echo", "--publish-interval", "0.2", "--lifetime",
                    "\(lifetime)",
                ])
            stops.add { await keepers.stop() }
            let kept = try #require(await keepers.wait(for: "READY", timeout: .seconds(20)), "\(keepers.diagnostics)")
            #expect(kept.int("ok") == 40, "\(kept)")
            return keepers
        }

        /// Keepers (40 echoing sessions), then 300 connections that never send a byte (each accepted one
        /// holds a descriptor until connect_timeout, 60 s), then 5 MQTT clients; checks the full phase
        /// and the recovery once the silent connections leave.
        func runDescriptorLimit(name: String, scenario: DescriptorScenario) async throws {
            let directory = try TemporaryDirectory(prefix: name)
            defer { directory.remove() }
            let limit = Self.descriptorLimit
            let silentScript = try PythonTool.write(EdgeScripts.silentHolder, named: "silent.py", in: directory)
            try await withStopList { stops in
                let broker = try await MosquittoProcess.start()
                stops.add { await broker.stop() }
                let front = try await startLimitedFront(scenario, in: directory, broker: broker, connectTimeout: "60s")
                stops.add { await front.stop() }
                let idleDescriptors = front.openDescriptors

                let keepers = try await startKeepers(in: directory, port: front.port, lifetime: 120, stops: stops)

                let silent = try ChildProcess.launch(
                    PythonTool.interpreter, [silentScript, "127.0.0.1", "\(front.port)", "300", "127.0.7.9", "90"],
                    outputDirectory: directory.path, name: "silent")
                stops.add { await silent.stop() }
                // Full: every session slot is taken (the admin plane still answers), descriptors to spare.
                let fit = (limit - Self.descriptorReserve) / 2
                let full = await Poll.until(timeout: .seconds(15), interval: .milliseconds(50)) {
                    await front.metric("brokerfront_connections_active") == Double(fit)
                }
                // Deliberately 2 s at the limit: the front must still be alive afterwards (nothing to poll for).
                try await Task.sleep(for: .seconds(2))
                #expect(front.isRunning, "the front died when it was full: \(front.log.suffix(300))")
                #expect(full, "the front has \(front.openDescriptors) of \(limit) descriptors open")
                // MQTT clients arriving now wait in the backlog (no RST, no refusal).
                let waiting = try SessionScript.start(
                    in: directory, name: "wait", port: front.port,
                    ["--count", "5", "--inflight", "5", "--attempt-timeout", "40", "--lifetime", "60"])
                stops.add { await waiting.stop() }

                let clock = ContinuousClock()
                let keepBefore = try #require(await keepers.stats())
                let cpuBefore = try #require(front.cpuSeconds)
                let window = clock.now
                try await Task.sleep(for: .seconds(3))
                let cpuAfter = try #require(front.cpuSeconds)
                let elapsed = (clock.now - window).inSeconds
                let keepAfter = try #require(await keepers.stats())
                let cpuShare = (cpuAfter - cpuBefore) / elapsed
                let descriptorsFull = front.openDescriptors
                // At most 2 per session beyond what the idle front held: the reserve stays free.
                #expect(descriptorsFull <= idleDescriptors + 2 * fit, "\(descriptorsFull) of \(limit) descriptors open")
                let waitingWhileFull = waiting.output
                print(
                    "fault fds (\(name)): idle front \(idleDescriptors) fds; full at \(descriptorsFull)/\(limit) fds "
                        + "with 300 silent connects and 5 MQTT clients waiting; front CPU over "
                        + "\(String(format: "%.1f", elapsed)) s: \(String(format: "%.2f", cpuAfter - cpuBefore)) s "
                        + "(\(String(format: "%.1f", cpuShare * 100))% of a core); keepers' echoes "
                        + "\(keepBefore["recv"] ?? "?") -> \(keepAfter["recv"] ?? "?")")
                expectMeasured(cpuShare < 0.15, "the front used \(cpuShare * 100)% of a core while full")
                // 40 sessions × 5 messages/s × 3 s = 600 echoes; allow for the sampling edges.
                #expect(keepAfter.int("recv") - keepBefore.int("recv") >= 450, "\(keepBefore) -> \(keepAfter)")
                #expect(keepAfter.int("closed") == 0, "\(keepAfter)")
                #expect(
                    !waitingWhileFull.contains("READY") && !waitingWhileFull.contains("FAIL"), "\(waitingWhileFull)")
                #expect(front.count("sessions_that_fit=\(fit)") == 1, "\(front.log.prefix(2000))")
                #expect(front.count("accept paused") == 0, "\(front.log.suffix(2000))")
                if scenario == .limitLoweredAtRuntime {
                    #expect(front.count("open-file limit changed") == 1, "\(front.log.suffix(2000))")
                }

                // Descriptors free up (the silent connections go away): the waiting clients are served.
                await silent.stop()
                let freedAt = clock.now
                let served = try #require(
                    await waiting.wait(for: "READY", timeout: .seconds(20)), "\(waiting.diagnostics)")
                let recovery = clock.now - freedAt
                #expect(served.int("ok") == 5, "\(served)")
                let keepFinal = try #require(await keepers.finish(), "\(keepers.diagnostics)")
                #expect(keepFinal.int("closed") == 0 && keepFinal.int("outstanding") == 0, "\(keepFinal)")
                #expect(front.count("server down") == 0, "\(front.log.suffix(2000))")
                print(
                    "fault fds (\(name)): the 5 waiting clients got CONNACK 0 \(recovery) after the silent "
                        + "connections left; keepers \(keepFinal)")
                front.child.send(signal: SIGTERM)
                expectCleanExit(await front.child.waitForExit(timeout: .seconds(10)), String(front.log.suffix(1500)))
            }
        }

        @Test(
            "the front started at RLIMIT_NOFILE 256 caps sessions at what fits (96): under 300 more connects accepting pauses at the cap without spinning a core, existing sessions keep relaying, waiting clients are served when slots free up"
        )
        func descriptorLimit() async throws {
            try await runDescriptorLimit(name: "fault-fds", scenario: .limitAtStart)
        }

        @Test(
            "the front whose limit is lowered to 256 under it caps sessions at what fits the new limit: under 300 more connects accepting pauses at the cap with descriptors to spare, without spinning a core, existing sessions keep relaying, waiting clients are served when slots free up"
        )
        func descriptorLimitLoweredAtRuntime() async throws {
            try await runDescriptorLimit(name: "fault-fds-runtime", scenario: .limitLoweredAtRuntime)
        }

        @Test(
            "300 idle connections to the admin port cannot use up the front's descriptors: the admin plane serves 128 at a time (counted in the reserve), MQTT clients are still served at once"
        )
        func descriptorLimitAdminFlood() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-fds-admin")
            defer { directory.remove() }
            let silentScript = try PythonTool.write(EdgeScripts.silentHolder, named: "silent.py", in: directory)
            try await withStopList { stops in
                let broker = try await MosquittoProcess.start()
                stops.add { await broker.stop() }
                let front = try await startLimitedFront(.limitAtStart, in: directory, broker: broker)
                stops.add { await front.stop() }
                let keepers = try await startKeepers(in: directory, port: front.port, lifetime: 60, stops: stops)
                let silent = try ChildProcess.launch(
                    PythonTool.interpreter,
                    [silentScript, "127.0.0.1", "\(front.adminPort)", "300", "127.0.7.10", "60"],
                    outputDirectory: directory.path, name: "silent")
                stops.add { await silent.stop() }
                _ = await silent.waitForOutput(containing: "OPENED", in: .stdout, timeout: .seconds(10))
                try await Task.sleep(for: .seconds(1))
                let cpuBefore = try #require(front.cpuSeconds)
                let clock = ContinuousClock()
                let window = clock.now
                let newcomers = try SessionScript.start(
                    in: directory, name: "new", port: front.port,
                    ["--count", "5", "--inflight", "5", "--attempt-timeout", "10", "--lifetime", "30"])
                stops.add { await newcomers.stop() }
                let served = try #require(
                    await newcomers.wait(for: "READY", timeout: .seconds(10)), "\(newcomers.diagnostics)")
                let servedAfter = clock.now - window
                try await Task.sleep(for: .seconds(2))
                let cpuShare = (try #require(front.cpuSeconds) - cpuBefore) / (clock.now - window).inSeconds
                let descriptors = front.openDescriptors
                print(
                    "fault fds/admin: 300 idle admin connections; front at \(descriptors)/\(Self.descriptorLimit) "
                        + "fds; 5 new MQTT clients served in \(servedAfter); front CPU "
                        + "\(String(format: "%.1f", cpuShare * 100))% of a core")
                #expect(served.int("ok") == 5, "\(served)")
                #expect(descriptors < Self.descriptorLimit - 10, "\(descriptors) descriptors open")
                expectMeasured(cpuShare < 0.15, "the front used \(cpuShare * 100)% of a core")
                #expect(front.isRunning)
                await silent.stop()
                // The admin plane answers again once its connections leave.
                let answered = await Poll.until(timeout: .seconds(10), interval: .milliseconds(100)) {
                    await front.metric("brokerfront_connections_active") != nil
                }
                #expect(answered)
                let keepFinal = try #require(await keepers.finish(), "\(keepers.diagnostics)")
                #expect(keepFinal.int("closed") == 0, "\(keepFinal)")
                _ = await newcomers.finish()
                front.child.send(signal: SIGTERM)
                expectCleanExit(await front.child.waitForExit(timeout: .seconds(10)), String(front.log.suffix(1500)))
            }
        }

        @Test(
            "300 MQTT clients at once at a descriptor limit lowered under the front: sessions are capped at what fits, no dial meets EMFILE, the server stays up and its sessions stay open"
        )
        func descriptorLimitDialFailure() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-fds-dial")
            defer { directory.remove() }
            try await withStopList { stops in
                let broker = try await MosquittoProcess.start()
                stops.add { await broker.stop() }
                let front = try await startLimitedFront(.limitLoweredAtRuntime, in: directory, broker: broker)
                stops.add { await front.stop() }
                let idleDescriptors = front.openDescriptors
                let keepers = try await startKeepers(in: directory, port: front.port, lifetime: 60, stops: stops)
                // 300 MQTT clients at once: the cap must leave a descriptor for every accepted one's dial.
                let flood = try SessionScript.start(
                    in: directory, name: "flood", port: front.port,
                    ["--count", "300", "--inflight", "300", "--attempt-timeout", "8", "--lifetime", "60"])
                stops.add { await flood.stop() }
                let floodReady = try #require(
                    await flood.wait(for: "READY", timeout: .seconds(30)), "\(flood.diagnostics)")
                // Deliberately 1 s past the flood: no keeper may close and the front must not die meanwhile.
                try await Task.sleep(for: .seconds(1))
                let keepAfter = try #require(await keepers.stats())
                let reasons = Dictionary(grouping: front.sessionsClosed, by: { $0["reason"] ?? "?" }).mapValues(\.count)
                #expect(front.isRunning, "the front died at the limit: \(front.log.suffix(300))")
                let fit = (Self.descriptorLimit - Self.descriptorReserve) / 2
                #expect(
                    front.openDescriptors <= idleDescriptors + 2 * fit,
                    "\(front.openDescriptors) of \(Self.descriptorLimit) descriptors open")
                #expect(front.count("Too many open files") == 0, "\(front.log.suffix(2000))")
                print(
                    "fault fds/dial: flood \(floodReady); keepers \(keepAfter); session reasons \(reasons); "
                        + "dial errors logged \(front.count("Too many open files"))")
                #expect(front.count("server down") == 0, "\(front.log.suffix(2000))")
                #expect(keepAfter.int("closed") == 0, "\(keepAfter)")
                _ = await flood.finish()
                _ = await keepers.finish()
                front.child.send(signal: SIGTERM)
                expectCleanExit(await front.child.waitForExit(timeout: .seconds(10)), String(front.log.suffix(1500)))
            }
        }

        // MARK: SIGHUP under load

        /// Two configs the reloads alternate between: B adds a listener, reweights b2 and changes
        /// listener settings that apply to new connections only.
        static func reloadYAML(variant: Int, ports: [Int], adminPort: Int, brokers: [Int]) -> String {
            let extra =
                variant == 1
                ? """
                  - name: extra
                    bind: 127.0.0.1:\(ports[1])
                    backend: brokers

                """ : ""
            return """
                log:
                  level: info
                drain_timeout: 2s
                admin:
                  bind: 127.0.0.1:\(adminPort)
                listeners:
                  - name: mqtt
                    bind: 127.0.0.1:\(ports[0])
                    backend: brokers
                    connect_timeout: \(variant == 1 ? "15s" : "10s")
                    keepalive_max: \(variant == 1 ? "1h" : "2h")
                \(extra)backends:
                  - name: brokers
                    balance: client-id
                    connect_timeout: 3s
                    servers:
                      - name: b1
                        address: 127.0.0.1:\(brokers[0])
                      - name: b2
                        address: 127.0.0.1:\(brokers[1])
                        weight: \(variant == 1 ? 2 : 1)

                """
        }

        @Test(
            "SIGHUP seven times (six valid files, one broken) while 2,000 sessions publish: zero sessions lost, zero messages lost"
        )
        func reloadUnderLoad() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-hup")
            defer { directory.remove() }
            let perScript = 1000
            try await withStopList { stops in
                var brokers: [MosquittoProcess] = []
                for _ in 0..<2 {
                    let broker = try await MosquittoProcess.start()
                    stops.add { await broker.stop() }
                    brokers.append(broker)
                }
                let brokerPorts = brokers.map(\.port)
                let front = try await FrontProcess.start(in: directory, listeners: 2) { ports, admin in
                    Self.reloadYAML(variant: 0, ports: ports, adminPort: admin, brokers: brokerPorts)
                }
                stops.add { await front.stop() }
                let clock = ContinuousClock()
                let loadStart = clock.now
                var scripts: [SessionScript] = []
                for index in 1...2 {
                    let script = try SessionScript.start(
                        in: directory, name: "h\(index)", port: front.port,
                        [
                            "--count", "\(perScript)", "--inflight", "50", "--bind", "127.0.10.\(index)", "--echo",
                            "--publish-interval", "1", "--lifetime", "120", "--attempt-timeout", "20",
                        ])
                    stops.add { await script.stop() }
                    scripts.append(script)
                }
                for script in scripts {
                    let ready = try #require(
                        await script.wait(for: "READY", timeout: .seconds(40)), "\(script.diagnostics)")
                    #expect(ready.int("ok") == perScript && ready.int("failed") == 0, "\(ready)")
                }
                let loadTime = clock.now - loadStart
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        await front.metric("brokerfront_connections_active", ["listener": "mqtt"])
                            == Double(2 * perScript)
                    })
                try await Task.sleep(for: .seconds(1))
                let before = try #require(await scripts[0].stats())

                // Six valid reloads alternating the two files, a broken file in the middle.
                var variants: [Int?] = [1, 0, 1, nil, 0, 1, 0]
                var applied = 0
                var refused = 0
                var activeDuring: [Double] = []
                let reloadStart = clock.now
                for variant in variants {
                    if let variant {
                        try front.rewrite(
                            Self.reloadYAML(
                                variant: variant, ports: front.ports, adminPort: front.adminPort, brokers: brokerPorts))
                    } else {
                        try front.rewrite("listeners: [oops\n")
                    }
                    front.child.send(signal: SIGHUP)
                    if variant != nil {
                        applied += 1
                        let seen = await Poll.until(timeout: .seconds(10)) {
                            front.count("configuration reloaded") == applied
                        }
                        #expect(seen, "reload \(applied) not applied: \(front.log.suffix(1500))")
                    } else {
                        refused += 1
                        let seen = await Poll.until(timeout: .seconds(10)) { front.count("reload refused") == refused }
                        #expect(seen, "the broken file was not refused")
                    }
                    if variant == 1 {
                        let (extra, code) = try await MQTTTestClient.connect(
                            port: front.ports[1], clientID: "hup-extra")
                        #expect(code == 0)
                        await extra.disconnect()
                    }
                    activeDuring.append(
                        await front.metric("brokerfront_connections_active", ["listener": "mqtt"]) ?? -1)
                    try await Task.sleep(for: .milliseconds(500))
                }
                variants.removeAll()
                let reloadTime = clock.now - reloadStart
                // Echoes go on through the reloads: wait (bounded) until three rounds of them arrived.
                var after = before
                let echoed = await Poll.until(timeout: .seconds(5), interval: .milliseconds(200)) {
                    after = await scripts[0].stats() ?? after
                    return after.int("recv") >= before.int("recv") + perScript * 3
                }
                #expect(echoed, "\(before) -> \(after)")
                #expect(await front.metric("brokerfront_reloads_total", ["result": "ok"]) == 6)
                #expect(await front.metric("brokerfront_reloads_total", ["result": "error"]) == 1)
                #expect(activeDuring.allSatisfy { $0 == Double(2 * perScript) }, "\(activeDuring)")
                let lostBeforeFinish = front.sessionsClosed.filter {
                    $0["client_id"]?.hasPrefix("h1-") == true || $0["client_id"]?.hasPrefix("h2-") == true
                }
                #expect(lostBeforeFinish.isEmpty, "\(lostBeforeFinish.prefix(3))")

                var finals: [[String: String]] = []
                for script in scripts {
                    let final = try #require(await script.finish(), "\(script.diagnostics)")
                    #expect(final.int("open") == perScript, "\(final)")
                    #expect(final.int("closed") == 0 && final.int("failed") == 0, "\(final)")
                    #expect(final.int("outstanding") == 0 && final.int("lost_closed") == 0, "\(final)")
                    #expect(final.int("sent") == final.int("recv"), "\(final)")
                    finals.append(final)
                }
                print(
                    "fault hup: \(2 * perScript) sessions up in \(loadTime); 7 SIGHUPs over \(reloadTime); active during reloads "
                        + "\(activeDuring); messages sent/received \(finals.map { "\($0["sent"] ?? "?")/\($0["recv"] ?? "?")" })"
                )
                front.child.send(signal: SIGTERM)
                expectCleanExit(await front.child.waitForExit(timeout: .seconds(10)), String(front.log.suffix(1500)))
            }
        }

        // MARK: SIGTERM with sessions open

        @Test(
            "SIGTERM with 2,000 open sessions, drain_timeout 3s and move_rate 0: stops accepting at once, sessions relay during the drain, all moved at its end (cause shutdown), exit 0 right after the drain"
        )
        func sigtermDrain() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-term")
            defer { directory.remove() }
            let perScript = 1000
            try await withStopList { stops in
                var brokers: [MosquittoProcess] = []
                for _ in 0..<2 {
                    let broker = try await MosquittoProcess.start()
                    stops.add { await broker.stop() }
                    brokers.append(broker)
                }
                let front = try await FrontProcess.start(in: directory) { ports, admin in
                    // `move_rate: 0`: sessions relay through the drain, then move all at once.
                    Self.frontYAML(
                        ports: ports, adminPort: admin, brokers: brokers.map(\.port), drain: "3s",
                        backend: "    move_rate: 0\n")
                }
                stops.add { await front.stop() }
                var scripts: [SessionScript] = []
                for index in 1...2 {
                    let script = try SessionScript.start(
                        in: directory, name: "t\(index)", port: front.port,
                        [
                            "--count", "\(perScript)", "--inflight", "50", "--bind", "127.0.11.\(index)", "--echo",
                            "--publish-interval", "1", "--lifetime", "120", "--attempt-timeout", "20",
                        ])
                    stops.add { await script.stop() }
                    scripts.append(script)
                }
                for script in scripts {
                    let ready = try #require(
                        await script.wait(for: "READY", timeout: .seconds(40)), "\(script.diagnostics)")
                    #expect(ready.int("ok") == perScript, "\(ready)")
                }
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        await front.metric("brokerfront_connections_active") == Double(2 * perScript)
                    })
                try await Task.sleep(for: .seconds(1))
                let before = try #require(await scripts[0].stats())

                let clock = ContinuousClock()
                let termAt = clock.now
                front.child.send(signal: SIGTERM)
                // Accepting stops at once.
                let closedListener = await Poll.until(timeout: .seconds(1), interval: .milliseconds(20)) {
                    await PortProbe.accepts(port: front.port, timeout: .milliseconds(100)) == false
                }
                let listenerGone = clock.now - termAt
                expectMeasured(closedListener, "the listener still accepts after SIGTERM")
                // Sessions keep relaying during the drain (3 s): a round of echoes arrives well before its end.
                var during = before
                let relayed = await Poll.until(
                    timeout: termAt + .milliseconds(2500) - clock.now, interval: .milliseconds(200)
                ) {
                    during = await scripts[0].stats() ?? during
                    return during.int("recv") >= before.int("recv") + perScript
                }
                #expect(relayed, "\(before) -> \(during)")
                #expect(during.int("closed") == 0, "\(during)")

                let status = await front.child.waitForExit(timeout: .seconds(10))
                let exitTime = clock.now - termAt
                expectCleanExit(status, String(front.log.suffix(1500)))
                expectMeasured(exitTime >= .milliseconds(2900) && exitTime < .seconds(5), "exit after \(exitTime)")
                let closedAll = await Poll.until(timeout: .seconds(5)) {
                    scripts.allSatisfy { $0.records("CLOSED").count == perScript }
                }
                #expect(closedAll, "\(scripts.map { $0.records("CLOSED").count })")
                let shutdownLines = front.sessionsClosed.filter {
                    $0["reason"] == "moved" && $0["cause"] == "shutdown" && $0["client_id"]?.hasPrefix("t") == true
                }
                #expect(shutdownLines.count == 2 * perScript)
                // The listener may have admitted the probe above before it closed: 2,000 or 2,001.
                let draining =
                    front.log.split(separator: "\n").first { $0.contains("draining") }.map(String.init) ?? "-"
                let drainingCount = draining.split(separator: " ").first { $0.hasPrefix("sessions=") }
                    .flatMap { Int($0.dropFirst("sessions=".count)) }
                expectMeasured(drainingCount.map { $0 >= 2 * perScript && $0 <= 2 * perScript + 1 } == true, draining)
                print(
                    "fault term: listener closed \(listenerGone) after SIGTERM; echoes during the drain "
                        + "\(before["recv"] ?? "?") -> \(during["recv"] ?? "?") (one of two clients); exit \(String(describing: status)) "
                        + "after \(exitTime); \(shutdownLines.count) sessions closed as shutdown; \(draining)")
            }
        }

        @Test(
            "SIGTERM with drain_timeout 30s and move_rate 0: when the last of 200 sessions ends by itself the front exits at once"
        )
        func sigtermEarlyExit() async throws {
            let directory = try TemporaryDirectory(prefix: "fault-term-early")
            defer { directory.remove() }
            try await withStopList { stops in
                let broker = try await MosquittoProcess.start()
                stops.add { await broker.stop() }
                let front = try await FrontProcess.start(in: directory) { ports, admin in
                    // `move_rate: 0`: the sessions are left to end by themselves during the drain.
                    Self.frontYAML(
                        ports: ports, adminPort: admin, brokers: [broker.port], drain: "30s",
                        backend: "    move_rate: 0\n")
                }
                stops.add { await front.stop() }
                let script = try SessionScript.start(
                    in: directory, name: "e", port: front.port,
                    ["--count", "200", "--inflight", "50", "--echo", "--publish-interval", "0.5", "--lifetime", "60"])
                stops.add { await script.stop() }
                let ready = try #require(
                    await script.wait(for: "READY", timeout: .seconds(20)), "\(script.diagnostics)")
                #expect(ready.int("ok") == 200)
                front.child.send(signal: SIGTERM)
                try await Task.sleep(for: .seconds(1))
                #expect(front.isRunning, "the front did not wait for its sessions")
                let clock = ContinuousClock()
                let final = try #require(await script.finish())
                #expect(final.int("closed") == 0 && final.int("outstanding") == 0, "\(final)")
                let goneAt = clock.now
                let status = await front.child.waitForExit(timeout: .seconds(10))
                let exitAfterLast = clock.now - goneAt
                expectCleanExit(status, String(front.log.suffix(1500)))
                expectMeasured(exitAfterLast < .seconds(2), "exit \(exitAfterLast) after the last session ended")
                print(
                    "fault term early: exit \(String(describing: status)) \(exitAfterLast) after the last session ended"
                )
            }
        }
    }
}

/// Raw MQTT bytes for tests that must not wait for a CONNACK.
enum MQTTTestBytes {
    /// A 3.1.1 clean-session CONNECT.
    static func connect(clientID: String, keepAlive: UInt16) -> [UInt8] {
        let id = Array(clientID.utf8)
        let body: [UInt8] =
            [0, 4] + Array("MQTT".utf8) + [4, 2, UInt8(keepAlive >> 8), UInt8(keepAlive & 0xFF)]
            + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
        return [0x10, UInt8(body.count)] + body
    }
}
