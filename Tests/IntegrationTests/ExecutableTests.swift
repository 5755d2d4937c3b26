import Foundation
import FrontTesting
import Testing

/// The built `brokerfront` executable, run as a process: `check` output, exit codes, SIGTERM, session log.
@Suite("brokerfront executable")
struct ExecutableTests {
    /// `.build/debug/brokerfront` next to the test bundle, or under the package root found from this file.
    static func executable() throws -> String {
        let manager = FileManager.default
        var candidates: [String] = []
        if let first = CommandLine.arguments.first {
            let bundleDirectory = URL(fileURLWithPath: first).deletingLastPathComponent()
            candidates.append(bundleDirectory.appendingPathComponent("brokerfront").path)
            candidates.append(bundleDirectory.deletingLastPathComponent().appendingPathComponent("brokerfront").path)
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/brokerfront").path)
        guard let found = candidates.first(where: { manager.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("brokerfront executable not found (run `swift build` first); looked at \(candidates)")
        }
        return found
    }

    @Test("check on a bad config: exit 1, one FILE:LINE:COL: PATH: message line per problem")
    func checkBadConfig() async throws {
        let directory = try TemporaryDirectory(prefix: "check")
        defer { directory.remove() }
        let file = try directory.write(
            """
            listeners:
              - name: mqtt
                bind: 127.0.0.1:1883
                bakend: brokers
            backends:
              - name: brokers
                servers:
                  - name: b1
                    address: 127.0.0.1:99999

            """, to: "bad.yaml")
        let (status, lines) = try await Self.check(file)
        #expect(status == 1)
        #expect(!lines.isEmpty)
        let pattern = try Regex(#"^(.+):(\d+):(\d+): (\S+): (.+)$"#)
        var paths: [String: (line: Int, column: Int)] = [:]
        for line in lines {
            let match = try #require(line.wholeMatch(of: pattern), "not FILE:LINE:COL: PATH: message: \(line)")
            #expect(match.output[1].substring.map(String.init) == file, "\(line)")
            let path = match.output[4].substring.map(String.init) ?? ""
            paths[path] = (
                Int(match.output[2].substring ?? "") ?? 0, Int(match.output[3].substring ?? "") ?? 0
            )
        }
        #expect(paths["listeners[0].bakend"].map { $0.line == 4 && $0.column == 5 } == true, "\(lines)")
        #expect(paths["backends[0].servers[0].address"]?.line == 9, "\(lines)")
    }

    @Test(
        "check reports every problem at once: a YAML error, and each TLS file of a listener that does not parse (certificate and key)"
    )
    func checkReportsEveryTLSProblem() async throws {
        let directory = try TemporaryDirectory(prefix: "check-tls")
        defer { directory.remove() }
        // PEM-looking (the YAML pass only looks for a BEGIN line), but not a certificate or a key.
        let certificate = try directory.write(
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", to: "cert.pem")
        let key = try directory.write(
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", to: "key.pem")
        let file = try directory.write(
            """
            listeners:
              - name: mqtt
                bind: 127.0.0.1:8883
                backend: brokers
                tls:
                  certificate: \(certificate)
                  private_key: \(key)
            backends:
              - name: brokers
                servers:
                  - name: b1
                    address: 127.0.0.1:99999

            """, to: "tls.yaml")
        let (status, lines) = try await Self.check(file)
        #expect(status == 1)
        #expect(lines.count == 3, "\(lines)")
        #expect(
            lines.first?.hasPrefix("\(file):6:") == true
                && lines.first?.contains(" listeners[0].tls.certificate: ") == true, "\(lines)")
        #expect(
            lines.dropFirst().first?.hasPrefix("\(file):7:") == true
                && lines.dropFirst().first?.contains(" listeners[0].tls.private_key: ") == true, "\(lines)")
        #expect(
            lines.last?.hasPrefix("\(file):12:") == true
                && lines.last?.contains(" backends[0].servers[0].address: ") == true, "\(lines)")
    }

    @Test("check on a good config: exit 0")
    func checkGoodConfig() async throws {
        let directory = try TemporaryDirectory(prefix: "check-ok")
        defer { directory.remove() }
        let file = try directory.write(Self.goodConfig(brokerPort: 1883), to: "good.yaml")
        let (status, lines) = try await Self.check(file)
        #expect(status == 0, "\(lines)")
    }

    @Test("check on a file with relay_connect and relay_accept: exit 0, one warning that they are ignored")
    func checkRemovedRelayKeys() async throws {
        let directory = try TemporaryDirectory(prefix: "check-removed")
        defer { directory.remove() }
        let yaml = "relay_connect: false\nrelay_accept: true\n" + Self.goodConfig(brokerPort: 1883)
        let file = try directory.write(yaml, to: "old.yaml")
        let (status, lines) = try await Self.check(file)
        #expect(status == 0, "\(lines)")
        #expect(lines.count == 1, "\(lines)")
        #expect(
            lines.first?.hasPrefix("\(file): warning: relay_connect and relay_accept are ignored") == true, "\(lines)")
    }

    /// `brokerfront check --config file`: its exit status and its standard error's lines.
    static func check(_ file: String) async throws -> (status: Int32, lines: [String]) {
        let result = try await CommandLineTool.run(
            try Self.executable(), ["check", "--config", file], timeout: .seconds(10))
        return (result.status, result.stderr.split(separator: "\n").map(String.init))
    }

    @Test("run with a bad config: exit 1, nothing bound")
    func runBadConfig() async throws {
        let directory = try TemporaryDirectory(prefix: "run-bad")
        defer { directory.remove() }
        let port = FreePort.next()
        let file = try directory.write(
            """
            listeners:
              - name: mqtt
                bind: 127.0.0.1:\(port)
                backend: brokers
            backends:
              - name: brokers
                servers:
                  - name: b1
                    address: 127.0.0.1:99999

            """, to: "bad.yaml")
        let child = try ChildProcess.launch(
            try Self.executable(), ["run", "--config", file], outputDirectory: directory.path)
        let status = await child.waitForExit(timeout: .seconds(10))
        if status == nil { await child.stop() }
        #expect(status == 1)
        #expect(child.stderrText().contains("\(file):"), "\(child.stderrText())")
        #expect(!child.stderrText().contains("listening"))
        #expect(await PortProbe.accepts(port: port) == false)
    }

    @Test("run with a good config: serves, logs session closed, exits 0 on SIGTERM")
    func runThenSIGTERM() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "run-ok")
            defer { directory.remove() }
            let file = try directory.write(Self.goodConfig(brokerPort: broker.port), to: "front.yaml")
            try await Self.withRunningFront(config: file, in: directory) { child, port in
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "exe-1")
                #expect(code == 0)
                await client.disconnect()
                let logged = await Poll.until(timeout: .seconds(5)) {
                    child.stderrText().split(separator: "\n").contains {
                        $0.contains("session closed listener=mqtt") && $0.contains("client_id=exe-1")
                            && $0.contains("reason=client_closed")
                    }
                }
                #expect(logged, "\(child.stderrText())")
            }
        }
    }

    @Test("SIGTERM drains; a second SIGTERM during the drain closes the sessions at once and exits 0")
    func secondSignalHurriesDrain() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "run-hurry")
            defer { directory.remove() }
            // `move_rate: 0`: the session stays through the drain instead of moving off at once.
            let config = Self.goodConfig(brokerPort: broker.port).replacingOccurrences(
                of: "drain_timeout: 1s", with: "drain_timeout: 60s"
            ).replacingOccurrences(of: "balance: client-id", with: "balance: client-id\n    move_rate: 0")
            let file = try directory.write(config, to: "front.yaml")
            let child = try ChildProcess.launch(
                try Self.executable(), ["run", "--config", file], outputDirectory: directory.path)
            do {
                #expect(await child.waitForOutput(containing: "listening ", timeout: .seconds(10)))
                let port = try #require(Self.boundPort(in: child.stderrText()), "\(child.stderrText())")
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "exe-hurry")
                #expect(code == 0)
                child.send(signal: SIGTERM)
                #expect(await child.waitForOutput(containing: "draining", timeout: .seconds(5)))
                // Still draining (60 s): the session is open.
                try await Task.sleep(for: .milliseconds(300))
                #expect(await client.connection.closedAt() == nil, "closed before the second signal")
                child.send(signal: SIGTERM)
                let status = await child.waitForExit(timeout: .seconds(10))
                #expect(status == 0, "\(child.stderrText())")
                #expect(await client.connection.waitForClose(timeout: .seconds(2)))
                let log = child.stderrText()
                #expect(log.contains("second shutdown signal, closing sessions now"), "\(log)")
                #expect(log.contains("client_id=exe-hurry") && log.contains("reason=shutdown"), "\(log)")
                await client.close()
            } catch {
                await child.stop()
                throw error
            }
            await child.stop()
        }
    }

    /// Runs `body` with the built executable serving `config` (the port it logged it listens on),
    /// then expects exit 0 on SIGTERM; the process is stopped whether `body` returns or throws.
    static func withRunningFront(
        config file: String, in directory: TemporaryDirectory,
        _ body: (_ child: ChildProcess, _ port: Int) async throws -> Void
    ) async throws {
        let child = try ChildProcess.launch(
            try executable(), ["run", "--config", file], outputDirectory: directory.path)
        do {
            #expect(await child.waitForOutput(containing: "listening ", timeout: .seconds(10)))
            let port = try #require(boundPort(in: child.stderrText()), "\(child.stderrText())")
            try await body(child, port)
            child.send(signal: SIGTERM)
            let status = await child.waitForExit(timeout: .seconds(10))
            #expect(status == 0, "\(child.stderrText())")
        } catch {
            await child.stop()
            throw error
        }
        await child.stop()
    }

    @Test("as an unprivileged user (uid 65534 under root): CONNECT, CONNACK and the session line as usual")
    func runUnprivileged() async throws {
        // A socket option that needs CAP_NET_ADMIN (SO_DEBUG, set by mistake through the wrong option
        // level) once reset every connection of a front not run as root; the tests run as root.
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "run-nobody")
            defer { directory.remove() }
            let manager = FileManager.default
            let copy = "\(directory.path)/brokerfront"
            try manager.copyItem(atPath: try Self.executable(), toPath: copy)
            let file = try directory.write(Self.goodConfig(brokerPort: broker.port), to: "front.yaml")
            try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
            try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
            try manager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
            let dropsPrivileges = geteuid() == 0
            let child =
                dropsPrivileges
                ? try ChildProcess.launch(
                    "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", copy, "run", "--config", file],
                    outputDirectory: directory.path, name: "brokerfront")
                : try ChildProcess.launch(copy, ["run", "--config", file], outputDirectory: directory.path)
            do {
                #expect(await child.waitForOutput(containing: "listening ", timeout: .seconds(10)))
                let port = try #require(Self.boundPort(in: child.stderrText()), "\(child.stderrText())")
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "exe-nobody")
                #expect(code == 0)
                try await client.subscribe("nobody/t")
                try await client.publish(topic: "nobody/t", payload: [7])
                #expect(try await client.nextPublish(timeout: .seconds(3)).payload == [7])
                await client.disconnect()
                let logged = await Poll.until(timeout: .seconds(5)) {
                    child.stderrText().contains("client_id=exe-nobody")
                }
                #expect(logged, "\(child.stderrText())")
                if dropsPrivileges {
                    let status = try String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)
                    #expect(status.contains("Uid:\t65534"), "the front runs unprivileged")
                }
                child.send(signal: SIGTERM)
                #expect(await child.waitForExit(timeout: .seconds(10)) == 0, "\(child.stderrText())")
            } catch {
                await child.stop()
                throw error
            }
            await child.stop()
        }
    }

    static func goodConfig(brokerPort: Int, port: Int = FreePort.next(), level: String = "info") -> String {
        """
        log:
          level: \(level)
          format: text
        drain_timeout: 1s
        listeners:
          - name: mqtt
            bind: 127.0.0.1:\(port)
            protocol: mqtt
            backend: brokers
        backends:
          - name: brokers
            balance: client-id
            servers:
              - name: b1
                address: 127.0.0.1:\(brokerPort)

        """
    }

    /// The port from the `listening ... bind=127.0.0.1:PORT` line (not the admin plane's `bind=`).
    static func boundPort(in log: String) -> Int? {
        guard let line = log.range(of: "listening "),
            let range = log[line.upperBound...].range(of: "bind=127.0.0.1:")
        else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }
}
