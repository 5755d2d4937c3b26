import Foundation
import Testing

@testable import FrontConfig

/// Checks that span sections: names, references, balance vs protocol, health-check shape, files, binds.
@Suite struct CrossCheckTests {
    @Test func duplicatesNameTheFirstLine() {
        let yaml = """
            listeners:
              - {name: a, bind: "127.0.0.1:1883", backend: b}
              - {name: a, bind: "127.0.0.1:1884", backend: b}
            backends:
              - name: b
                servers:
                  - address: 10.0.0.1:1883
                  - address: 10.0.0.1:1883
              - name: b
                servers:
                  - {name: x, address: "10.0.0.1:1883"}
            """
        #expect(
            checkLines(yaml) == [
                "front.yaml:3:12: listeners[1].name: duplicate listener name `a` (first defined on line 2)",
                "front.yaml:8:18: backends[0].servers[1].address: server `10.0.0.1:1883` is listed twice "
                    + "(first on line 7); a server without `name` is named by its address, so name them to keep both",
                "front.yaml:9:11: backends[1].name: duplicate backend name `b` (first defined on line 5)",
            ])
    }

    @Test func listenerMustNameAnExistingBackend() {
        let yaml = minimalYAML.replacingOccurrences(of: "backend: b", with: "backend: c")
        #expect(checkLines(yaml) == ["front.yaml:4:14: listeners[0].backend: no backend named `c`; did you mean `b`?"])
        let noBackends = "listeners:\n  - {name: m, bind: \"127.0.0.1:1\", backend: c}\n"
        #expect(
            checkLines(noBackends) == [
                "front.yaml:1:1: backends: at least one backend is required",
                "front.yaml:2:45: listeners[0].backend: no backend named `c`; no backends are defined",
            ])
    }

    @Test func backendNeedsServersAndFileNeedsListeners() {
        #expect(
            checkLines("listeners: []\nbackends:\n  - name: b\n") == [
                "front.yaml:1:12: listeners: at least one listener is required",
                "front.yaml:3:5: backends[0].servers: a backend needs at least one server",
            ])
        #expect(
            checkLines("") == [
                "front.yaml:1:1: listeners: at least one listener is required",
                "front.yaml:1:1: backends: at least one backend is required",
            ])
    }

    @Test func clientIDBalanceNeedsAnMQTTListener() {
        let yaml = """
            listeners:
              - {name: redis, bind: "127.0.0.1:6380", backend: b, protocol: tcp}
            backends:
              - name: b
                balance: username
                servers: [{address: "10.0.0.1:6379"}]
            """
        #expect(
            checkLines(yaml) == [
                "front.yaml:5:14: backends[0].balance: balance `username` needs an mqtt listener, but tcp listener "
                    + "`redis` uses this backend; use source-ip, round-robin, least-connections or first"
            ])
    }

    @Test func sendExpectNeedsSendAndExpectAndValidEscapes() {
        func check(_ healthCheck: String) -> [String] {
            checkLines(minimalYAML.replacingOccurrences(of: "    servers:", with: healthCheck + "    servers:"))
        }
        #expect(
            check("    health_check:\n      type: send-expect\n") == [
                "front.yaml:8:7: backends[0].health_check.send: send-expect checks need `send` "
                    + "(the bytes to write, e.g. 'PING\\r\\n')",
                "front.yaml:8:7: backends[0].health_check.expect: send-expect checks need `expect` "
                    + "(text the reply must contain)",
            ])
        #expect(
            check("    health_check:\n      type: send-expect\n      send: 'PING\\x0'\n      expect: PONG\n") == [
                "front.yaml:9:13: backends[0].health_check.send: bad escape `\\x0` in `PING\\x0`; "
                    + "\\x needs two hex digits, e.g. \\x00"
            ])
        #expect(
            check("    health_check:\n      type: redis-master\n      send: PING\n      password: pw\n") == [
                "front.yaml:9:13: backends[0].health_check.send: `send` is only used by send-expect checks "
                    + "(type is redis-master)"
            ])
    }

    @Test func tlsFilesMustExistAndLookLikePEM() throws {
        let directory = try ScratchDirectory()
        try directory.writePEM("server.pem")
        try directory.write("key.txt", "not a key\n")
        let yaml = minimalYAML.replacingOccurrences(
            of: "    backend: b\n",
            with: """
                    backend: b
                    tls:
                      certificate: server.pem
                      private_key: key.txt
                      client_ca: \(directory.path)/missing.pem

                """)
        let file = try directory.write("front.yaml", yaml)
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(contentsOf: file) }
        #expect(
            error.description == """
                \(file):7:20: listeners[0].tls.private_key: `\(directory.path)/key.txt` is not a PEM file \
                (no `-----BEGIN` line)
                \(file):8:18: listeners[0].tls.client_ca: cannot read `\(directory.path)/missing.pem`: no such file
                """)
        let noKey = minimalYAML.replacingOccurrences(
            of: "    backend: b\n", with: "    backend: b\n    tls:\n      certificate: /nonexistent/cert.pem\n")
        #expect(
            checkLines(noKey) == [
                "front.yaml:6:7: listeners[0].tls.private_key: missing required key `private_key`",
                "front.yaml:6:20: listeners[0].tls.certificate: cannot read `/nonexistent/cert.pem`: no such file",
            ])
    }

    @Test func overlappingBindsNeedReusePort() {
        let yaml = """
            admin: {bind: "127.0.0.1:1884"}
            listeners:
              - {name: a, bind: "0.0.0.0:1883", backend: b}
              - {name: c, bind: "127.0.0.1:1883", backend: b, reuse_port: true}
              - {name: d, bind: "127.0.0.1:1884", backend: b}
            backends:
              - {name: b, servers: [{address: "10.0.0.1:1883"}]}
            """
        #expect(
            checkLines(yaml) == [
                "front.yaml:4:21: listeners[1].bind: `127.0.0.1:1883` clashes with listener `a` bound to "
                    + "`0.0.0.0:1883` on line 3; use another address or port, or set reuse_port: true on both",
                "front.yaml:5:21: listeners[2].bind: `127.0.0.1:1884` clashes with the admin plane bound to "
                    + "`127.0.0.1:1884` on line 1; use another port",
            ])
    }

    @Test func keepaliveMinMustNotExceedMax() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "    backend: b\n", with: "    backend: b\n    keepalive_max: 5s\n")
        #expect(
            checkLines(yaml) == [
                "front.yaml:5:20: listeners[0].keepalive_max: keepalive_min (10s) is greater than keepalive_max (5s)"
            ])
    }
}
