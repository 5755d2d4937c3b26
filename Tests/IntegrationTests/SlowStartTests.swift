import Foundation
import FrontConfig
import FrontProxy
import FrontTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EdgeLoadTests {
    /// Issue 6: "kills one of three brokers holding 3,000 sessions (several client processes), and shows
    /// that the survivors absorb the reconnects, that no session of a surviving broker is touched, and
    /// that the returning broker's share grows over the slow-start window."
    ///
    /// The 3,000 sessions come from three Python processes (``EdgeScripts/holder``), 1,000 each from
    /// its own source address; the front runs in-process (6,000 descriptors). The fresh clients of the
    /// slow-start rounds are in-process NIO clients.
    @Suite("Reconnect storm and slow start")
    struct ReconnectStormTests {
        /// Client id → server of every live session, read page by page (1,000 a page) from the front.
        static func placement(_ front: RunningFront, server: String? = nil) async -> [String: String] {
            var result: [String: String] = [:]
            var offset = 0
            while true {
                let (total, page) = await front.runner.proxy.sessions(
                    matching: SessionFilter(server: server), offset: offset, limit: 1000)
                for session in page {
                    if let id = session.client_id { result[id] = session.server ?? "-" }
                }
                offset += page.count
                if page.isEmpty || offset >= total { return result }
            }
        }

        /// Every `CLOSED id=` a holder reported so far, over all holders.
        static func closedIDs(_ holders: [ChildProcess]) -> [String] {
            holders.flatMap { scriptRecords($0.stdoutText(), tag: "CLOSED").compactMap { $0["id"] } }
        }

        /// Waits until every holder printed a `tag` line; returns the first such line of each.
        static func waitForRecord(
            _ tag: String, from holders: [ChildProcess], timeout: Duration
        ) async -> [[String: String]]? {
            let done = await Poll.until(timeout: timeout, interval: .milliseconds(50)) {
                holders.allSatisfy { !scriptRecords($0.stdoutText(), tag: tag).isEmpty }
            }
            guard done else { return nil }
            return holders.map { scriptRecords($0.stdoutText(), tag: tag)[0] }
        }

        /// What went wrong, in brief: the front's notices and warnings (health flips), the holders' first
        /// refusals and closes, and the close reasons the front logged.
        static func diagnostics(_ front: RunningFront, _ holders: [ChildProcess]) -> String {
            let events = front.logs.all.filter { $0.level >= .notice }.prefix(20).map {
                "\($0.level) \($0.message) \($0.metadata)"
            }
            let fails = holders.flatMap { scriptRecords($0.stdoutText(), tag: "FAIL").prefix(5) }
            var reasons: [String: Int] = [:]
            for line in front.logs.sessionsClosed {
                reasons["\(line["server"] ?? "-")/\(line["reason"] ?? "?")", default: 0] += 1
            }
            return "front events: \(events); holder refusals: \(fails); closes: \(reasons); "
                + "holder closes: \(closedIDs(holders).count)"
        }

        static func sum(_ records: [[String: String]], _ key: String) -> Int {
            records.reduce(0) { $0 + (Int($1[key] ?? "") ?? 0) }
        }

        @Test(
            "kill 1 of 3 brokers under 3,000 sessions: only its sessions close, survivors absorb the reconnects, the returning broker ramps up"
        )
        func stormAndSlowStart() async throws {
            let directory = try TemporaryDirectory(prefix: "storm")
            defer { directory.remove() }
            let script = try PythonTool.write(EdgeScripts.holder, named: "holder.py", in: directory)
            let clock = ContinuousClock()
            try await withStopList { stops in
                var brokers: [MosquittoProcess] = []
                for _ in 0..<3 {
                    let broker = try await MosquittoProcess.start()
                    stops.add { await broker.stop() }
                    brokers.append(broker)
                }
                let config = TestConfig.mqttFront(
                    ports: brokers.map(\.port), balance: .clientID,
                    listener: { $0.connectTimeout = .seconds(10) },
                    backend: {
                        $0.connectTimeout = .seconds(5)
                        // fall 3 / timeout 2 s rather than fall 1 / 1 s: on this 2-core host, shared with other
                        // builds (load average seen at 13–76), a single slow check flipped a healthy broker
                        // down and on_server_down closed its ~1,000 sessions. The killed broker still goes
                        // down within ~0.6 s (its checks are refused at once).
                        $0.healthCheck = HealthCheckConfig(
                            type: .mqtt, interval: .milliseconds(200), timeout: .seconds(2), rise: 1, fall: 3)
                        $0.slowStart = .seconds(4)
                        $0.onServerDown = .close
                    })
                try await withFront(config) { front in
                    func isUp(_ server: String) -> Bool {
                        front.metric("brokerfront_server_up", ["backend": "brokers", "server": server]) == 1
                    }
                    try #require(await Poll.until(timeout: .seconds(5)) { ["b1", "b2", "b3"].allSatisfy(isUp) })
                    let port = try front.port()

                    // 3,000 sessions from three processes.
                    let loadStart = clock.now
                    var holders: [ChildProcess] = []
                    for index in 1...3 {
                        let holder = try ChildProcess.launch(
                            PythonTool.interpreter,
                            [script, "127.0.0.1", "\(port)", "h\(index)-", "1000", "127.0.9.\(index)", "20", "120"],
                            outputDirectory: directory.path, name: "holder\(index)")
                        stops.add { await holder.stop() }
                        holders.append(holder)
                    }
                    let ready = try #require(
                        await Self.waitForRecord("READY", from: holders, timeout: .seconds(40)),
                        "\(holders.map { $0.stdoutText().suffix(500) + $0.stderrText() })")
                    #expect(
                        Self.sum(ready, "ok") == 3000 && Self.sum(ready, "failed") == 0,
                        "\(ready); \(Self.diagnostics(front, holders))")
                    let loadTime = clock.now - loadStart
                    #expect(await front.waitForActive(3000, timeout: .seconds(10)))
                    let placement = await Self.placement(front)
                    #expect(placement.count == 3000)
                    let onB2 = Set(placement.filter { $0.value == "b2" }.keys)
                    let shares = ["b1", "b2", "b3"].map { name in placement.values.filter { $0 == name }.count }
                    print("storm: 3000 sessions in \(loadTime), shares b1/b2/b3 = \(shares)")
                    #expect(shares.allSatisfy { $0 > 800 && $0 < 1200 }, "\(shares)")
                    let b2Log = Set(brokers[1].clientsConnected().map(\.clientID).filter { $0.hasPrefix("h") })
                    #expect(b2Log == onB2, "the front's and mosquitto's view of b2 differ")

                    // Kill b2 (SIGKILL, by PID): exactly its sessions end.
                    let killedAt = clock.now
                    kill(brokers[1].pid, SIGKILL)
                    let closedSeen = await Poll.until(timeout: .seconds(10), interval: .milliseconds(50)) {
                        Self.closedIDs(holders).count >= onB2.count
                    }
                    #expect(closedSeen, "\(Self.closedIDs(holders).count) of \(onB2.count) closes seen")
                    let closeTime = clock.now - killedAt
                    #expect(await Poll.until(timeout: .seconds(5)) { !isUp("b2") })
                    #expect(await front.waitForActive(Double(3000 - onB2.count), timeout: .seconds(5)))
                    let closed = Self.closedIDs(holders)
                    #expect(closed.count == onB2.count && Set(closed) == onB2, "closed ids other than b2's")
                    let frontClosed = front.logs.sessionsClosed
                    #expect(Set(frontClosed.compactMap { $0["client_id"] }) == onB2)
                    #expect(frontClosed.allSatisfy { $0["server"] == "b2" })
                    var reasons: [String: Int] = [:]
                    for line in frontClosed { reasons[line["reason"] ?? "?", default: 0] += 1 }
                    print("storm: \(onB2.count) sessions of b2 closed within \(closeTime); reasons \(reasons)")
                    #expect(Set(reasons.keys).isSubset(of: ["server_down", "server_closed"]), "\(reasons)")

                    // The survivors were not touched: every one answers a PINGREQ, none was closed.
                    for holder in holders { holder.send(signal: SIGUSR2) }
                    let pinged = try #require(await Self.waitForRecord("PINGED", from: holders, timeout: .seconds(10)))
                    #expect(Self.sum(pinged, "sent") == 3000 - onB2.count, "\(pinged)")
                    #expect(Self.sum(pinged, "got") == Self.sum(pinged, "sent"), "\(pinged)")

                    // The storm: every closed id reconnects at once, all land on the survivors.
                    let reconnectStart = clock.now
                    for holder in holders { holder.send(signal: SIGUSR1) }
                    let reconnected = try #require(
                        await Self.waitForRecord("RECONNECTED", from: holders, timeout: .seconds(20)))
                    #expect(Self.sum(reconnected, "ok") == onB2.count && Self.sum(reconnected, "failed") == 0)
                    print("storm: \(onB2.count) reconnects absorbed in \(clock.now - reconnectStart)")
                    #expect(await front.waitForActive(3000, timeout: .seconds(5)))
                    let afterStorm = await Self.placement(front)
                    #expect(afterStorm.count == 3000)
                    #expect(!afterStorm.values.contains("b2"))
                    let moved = afterStorm.filter { placement[$0.key] != $0.value }.keys
                    #expect(Set(moved) == onB2, "a survivor's session moved")
                    #expect(Self.closedIDs(holders).count == onB2.count, "a session closed during the storm")

                    // b2 returns on its port; its share of fresh clients grows over the 4 s slow start.
                    await brokers[1].stop()
                    let returned = try await MosquittoProcess.start(port: brokers[1].port)
                    stops.add { await returned.stop() }
                    try #require(await Poll.until(timeout: .seconds(5), interval: .milliseconds(10)) { isUp("b2") })
                    let upAt = clock.now
                    var fractions: [Double] = []
                    for (round, offset) in [(1, 0.5), (2, 2.0), (3, 5.0)] {
                        try await Task.sleep(until: upAt + .seconds(offset), clock: .continuous)
                        let began = clock.now - upAt
                        let ids = (0..<300).map { "r\(round)-\($0)" }
                        let clients = try await connectMany(port: port, ids: ids, concurrency: 50)
                        let ended = clock.now - upAt
                        let onReturned = await Self.placement(front, server: "b2").keys.filter {
                            $0.hasPrefix("r\(round)-")
                        }
                        fractions.append(Double(onReturned.count) / 300)
                        print(
                            "slow start: round \(round) (\(began) ... \(ended) after up): "
                                + "\(onReturned.count)/300 on b2")
                        await disconnectAll(clients)
                    }
                    #expect(fractions[0] < fractions[1] && fractions[1] < fractions[2], "\(fractions)")
                    #expect(abs(fractions[2] - 1.0 / 3) <= 0.10, "\(fractions)")
                    #expect(Self.closedIDs(holders).count == onB2.count, "a held session closed when b2 returned")
                    let held = await Self.placement(front).filter { $0.key.hasPrefix("h") }
                    #expect(held.count == 3000 && !held.values.contains("b2"))
                }
            }
        }
    }
}
