import Foundation
import FrontTesting
import Testing

/// `watch: true`: the executable reloads when its config file or a TLS file changes the way a
/// Kubernetes ConfigMap or Secret volume changes (a new directory behind an atomically swapped
/// `..data` symlink), and refuses a bad file without changing anything.
@Suite("Watching the config and TLS files")
struct WatchTests {
    /// A directory laid out like a mounted ConfigMap: `NAME -> ..data/NAME`, `..data -> ..vN`.
    struct ProjectedVolume {
        let path: String
        var version = 0

        init(path: String, files: [String: String]) throws {
            self.path = path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try publish(files)
            for name in files.keys {
                try FileManager.default.createSymbolicLink(
                    atPath: "\(path)/\(name)", withDestinationPath: "..data/\(name)")
            }
        }

        /// Writes `files` into a new version directory and swaps `..data` to it with one rename.
        mutating func publish(_ files: [String: String]) throws {
            let manager = FileManager.default
            let old = "..v\(version)"
            version += 1
            let new = "..v\(version)"
            try manager.createDirectory(atPath: "\(path)/\(new)", withIntermediateDirectories: true)
            for (name, content) in files {
                try content.write(toFile: "\(path)/\(new)/\(name)", atomically: false, encoding: .utf8)
            }
            try manager.createSymbolicLink(atPath: "\(path)/..data_tmp", withDestinationPath: new)
            guard rename("\(path)/..data_tmp", "\(path)/..data") == 0 else {
                throw HarnessError("rename ..data_tmp: errno \(errno)")
            }
            try? manager.removeItem(atPath: "\(path)/\(old)")
        }
    }

    static func config(brokerPort: Int, adminPort: Int, listeners: [(String, Int)], tls: String = "") -> String {
        var text = """
            watch: true
            drain_timeout: 1s
            log:
              level: info
              format: text
            admin:
              bind: 127.0.0.1:\(adminPort)
            listeners:

            """
        for (name, port) in listeners {
            text += "  - name: \(name)\n    bind: 127.0.0.1:\(port)\n    backend: brokers\n\(tls)"
        }
        text +=
            "backends:\n  - name: brokers\n    servers:\n      - name: b1\n        address: 127.0.0.1:\(brokerPort)\n"
        return text
    }

    static func reloads(_ result: String, adminPort: Int) async throws -> Double? {
        let text = try await HTTPTestClient.get(port: adminPort, path: "/metrics").body
        return PrometheusText.value(of: "brokerfront_reloads_total", labels: ["result": result], in: text) ?? 0
    }

    @Test(
        "a ConfigMap-style swap is applied; a bad file is logged and counted and changes nothing; a good one after it applies"
    )
    func configSwap() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "watch-config")
            defer { directory.remove() }
            let adminPort = FreePort.next()
            let first = FreePort.next()
            let second = FreePort.next()
            var volume = try ProjectedVolume(
                path: "\(directory.path)/config",
                files: [
                    "front.yaml": Self.config(
                        brokerPort: broker.port, adminPort: adminPort, listeners: [("mqtt", first)])
                ])
            let file = "\(volume.path)/front.yaml"
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, port in
                #expect(port == first)
                #expect(await PortProbe.accepts(port: second) == false)
                try volume.publish([
                    "front.yaml": Self.config(
                        brokerPort: broker.port, adminPort: adminPort, listeners: [("mqtt", first), ("mqtt2", second)])
                ])
                #expect(await Poll.until(timeout: .seconds(10)) { await PortProbe.accepts(port: second) })
                #expect(child.stderrText().contains("watched file changed, reloading"), "\(child.stderrText())")
                #expect(try await Self.reloads("ok", adminPort: adminPort) == 1)

                // A listener naming a backend that does not exist: refused, counted, both listeners stay.
                try volume.publish([
                    "front.yaml": Self.config(
                        brokerPort: broker.port, adminPort: adminPort, listeners: [("mqtt", first)]
                    )
                    .replacingOccurrences(of: "backend: brokers", with: "backend: nowhere")
                ])
                #expect(
                    await Poll.until(timeout: .seconds(10)) {
                        child.stderrText().contains("reload refused: invalid configuration")
                    }, "\(child.stderrText())")
                #expect(try await Self.reloads("error", adminPort: adminPort) == 1)
                #expect(await PortProbe.accepts(port: second))
                let (client, code) = try await MQTTTestClient.connect(port: second, clientID: "watch-1")
                #expect(code == 0)
                await client.disconnect()

                // Fixed: applied (mqtt2 removed); the bad file was not tried again meanwhile.
                try volume.publish([
                    "front.yaml": Self.config(
                        brokerPort: broker.port, adminPort: adminPort, listeners: [("mqtt", first)])
                ])
                #expect(await Poll.until(timeout: .seconds(10)) { await PortProbe.accepts(port: second) == false })
                #expect(try await Self.reloads("ok", adminPort: adminPort) == 2)
                #expect(try await Self.reloads("error", adminPort: adminPort) == 1)
            }
        }
    }

    @Test("a renewed certificate swapped in like cert-manager does reloads the front")
    func certificateSwap() async throws {
        try await withMosquitto { broker in
            let certificates = try await TestCertificates.make()
            defer { certificates.remove() }
            let directory = try TemporaryDirectory(prefix: "watch-tls")
            defer { directory.remove() }
            let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            var secret = try ProjectedVolume(
                path: "\(directory.path)/tls",
                files: ["tls.crt": read(certificates.serverCertificate), "tls.key": read(certificates.serverKey)])
            let adminPort = FreePort.next()
            let tls = "    tls:\n      certificate: \(secret.path)/tls.crt\n      private_key: \(secret.path)/tls.key\n"
            let file = try directory.write(
                Self.config(
                    brokerPort: broker.port, adminPort: adminPort, listeners: [("mqtt", FreePort.next())], tls: tls),
                to: "front.yaml")
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, _ in
                #expect(try await Self.reloads("ok", adminPort: adminPort) == 0)
                try secret.publish([
                    "tls.crt": read(certificates.serverCertificate), "tls.key": read(certificates.serverKey),
                ])
                #expect(
                    await Poll.until(timeout: .seconds(10)) {
                        (try? await Self.reloads("ok", adminPort: adminPort)) == 1
                    }, "\(child.stderrText())")
                #expect(child.stderrText().contains("tls.crt"), "\(child.stderrText())")
            }
        }
    }

    @Test("an admin token file rotated in a Secret volume reloads the front: the new token is required from then on")
    func tokenFileSwap() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "watch-token")
            defer { directory.remove() }
            var secret = try ProjectedVolume(path: "\(directory.path)/secret", files: ["token": "first-token\n"])
            let adminPort = FreePort.next()
            let text = Self.config(
                brokerPort: broker.port, adminPort: adminPort, listeners: [("mqtt", FreePort.next())]
            )
            .replacingOccurrences(
                of: "  bind: 127.0.0.1:\(adminPort)\n",
                with: "  bind: 127.0.0.1:\(adminPort)\n  token_file: \(secret.path)/token\n")
            let file = try directory.write(text, to: "front.yaml")
            func sessions(_ token: String) async throws -> Int {
                try await HTTPTestClient.request(
                    method: "GET", port: adminPort, path: "/sessions", headers: ["Authorization": "Bearer \(token)"]
                ).status
            }
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, _ in
                #expect(try await sessions("first-token") == 200)
                try secret.publish(["token": "second-token\n"])
                #expect(
                    await Poll.until(timeout: .seconds(10)) { (try? await sessions("second-token")) == 200 },
                    "\(child.stderrText())")
                #expect(try await sessions("first-token") == 401)
                #expect(try await Self.reloads("ok", adminPort: adminPort) == 1)
            }
        }
    }
}
