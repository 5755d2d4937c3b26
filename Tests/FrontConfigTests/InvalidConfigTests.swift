import Foundation
import Testing

@testable import FrontConfig

@Suite struct InvalidConfigTests {
    @Test func reportsEveryProblemInOnePassWithPositions() {
        let yaml = """
            admin:
              bind: localhost:9100
            log:
              level: loud
            drain_timeout: 30
            max_connections: lots
            listeners:
              - name: front
                bind: 0.0.0.0:1883
                bakend: brokers
                reuse_port: yes
                max_connect_size: 8
                keepalive_factor: 0
              - name: front
                bind: 0.0.0.0:70000
                protocol: udp
                backend: nowhere
                limits: [1, 2]
            backends:
              - name: brokers
                balance: rr
                source_ips: [10.0.0.300]
                retries: -1
                health_check:
                  type: tcp
                  interval: 0s
                  rise: 0
                  expect: "+OK"
                servers:
                  - name: s1
                    address: 10.0.0.1
                    weight: 257
                  - name: s1
                    address: "[::1]:1883"
              - name: empty
                servers: []
            """
        let balances = "client-id, username, source-ip, round-robin, least-connections, first"
        let expected = [
            "f.yaml:2:9: admin.bind: `localhost:9100`: a bind needs an IP address, not a host name, "
                + "e.g. 0.0.0.0:1883 or [::]:1883",
            "f.yaml:4:10: log.level: `loud` is not one of trace, debug, info, notice, warning, error, critical",
            "f.yaml:5:16: drain_timeout: `30` has no unit; durations need a unit, e.g. 5s",
            "f.yaml:6:18: max_connections: `lots` is not a whole number",
            "f.yaml:8:5: listeners[0].backend: missing required key `backend`",
            "f.yaml:10:5: listeners[0].bakend: unknown key `bakend`; did you mean `backend`?",
            "f.yaml:11:17: listeners[0].reuse_port: `yes` is not a boolean; use true or false",
            "f.yaml:12:23: listeners[0].max_connect_size: `8` is out of range; use 16 bytes to 16MiB",
            "f.yaml:13:23: listeners[0].keepalive_factor: must be greater than 0, got 0",
            "f.yaml:14:11: listeners[1].name: duplicate listener name `front` (first defined on line 8)",
            "f.yaml:15:11: listeners[1].bind: `0.0.0.0:70000`: port `70000` is out of range; use 0...65535",
            "f.yaml:16:15: listeners[1].protocol: `udp` is not one of mqtt, tcp",
            "f.yaml:17:14: listeners[1].backend: no backend named `nowhere`; defined: brokers, empty",
            "f.yaml:18:13: listeners[1].limits: expected a mapping of keys, found a list",
            "f.yaml:21:14: backends[0].balance: `rr` is not one of \(balances)",
            "f.yaml:22:18: backends[0].source_ips[0]: `10.0.0.300` is not an IP address "
                + "(write e.g. 10.0.0.5 or fd00::5, without a port)",
            "f.yaml:23:14: backends[0].retries: must be at least 0, got -1",
            "f.yaml:26:17: backends[0].health_check.interval: must be greater than 0, got `0s`",
            "f.yaml:27:13: backends[0].health_check.rise: must be at least 1, got 0",
            "f.yaml:28:15: backends[0].health_check.expect: `expect` is only used by send-expect checks (type is tcp)",
            "f.yaml:31:18: backends[0].servers[0].address: `10.0.0.1`: missing port; write HOST:PORT, "
                + "e.g. 10.0.0.1:1883",
            "f.yaml:32:17: backends[0].servers[0].weight: must be at most 256, got 257",
            "f.yaml:33:15: backends[0].servers[1].name: duplicate server name `s1` (first defined on line 30)",
            "f.yaml:36:14: backends[1].servers: a backend needs at least one server",
        ]
        let lines = checkLines(yaml, file: "f.yaml")
        #expect(lines == expected)
        for (got, want) in zip(lines, expected) where got != want {
            Issue.record("got:  \(got)\nwant: \(want)")
        }
    }

    @Test func unknownKeysAreReportedAtTheKeyWithAHint() {
        let yaml =
            minimalYAML.replacingOccurrences(of: "    backend: b\n", with: "    backend: b\n    idle_timout: 5s\n")
            + "listners: []\nfoo: 1\n"
        #expect(
            checkLines(yaml) == [
                "front.yaml:5:5: listeners[0].idle_timout: unknown key `idle_timout`; did you mean `idle_timeout`?",
                "front.yaml:10:1: listners: unknown key `listners`; did you mean `listeners`?",
                "front.yaml:11:1: foo: unknown key `foo`",
            ])
    }

    @Test func wrongKindsAreErrors() {
        let yaml = """
            admin: 127.0.0.1:9100
            listeners:
              name: m
            backends:
              - name: b
                source_ips: 10.0.0.1
                servers:
                  - [10.0.0.1:1883]
            """
        #expect(
            checkLines(yaml) == [
                "front.yaml:1:8: admin: expected a mapping of keys, found the value `127.0.0.1:9100`",
                "front.yaml:3:3: listeners: expected a list, found a mapping",
                "front.yaml:6:17: backends[0].source_ips: expected a list, found the value `10.0.0.1`",
                "front.yaml:8:9: backends[0].servers[0]: expected a mapping of keys, found a list",
            ])
    }

    @Test func syntaxErrorsAreOneIssueAtTheParserPosition() {
        #expect(
            checkLines("listeners:\n  - name: a\n   backend: x\n") == [
                "front.yaml:3:4: (yaml): YAML syntax error: did not find expected '-' indicator "
                    + "(while parsing a block collection at line 2)"
            ])
        #expect(
            checkLines("log:\n  level: info\n  format: text\n  level: debug\n") == [
                "front.yaml:4:3: (yaml): duplicate key `level` (first on line 2); each key may appear once"
            ])
    }

    @Test func unreadableFileIsOneIssue() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(contentsOf: "/nonexistent/front.yaml")
        }
        #expect(
            error.issues == [
                ConfigIssue(
                    line: 1, column: 1, path: "(file)", message: "cannot read `/nonexistent/front.yaml`: no such file")
            ])
        #expect(
            error.description
                == "/nonexistent/front.yaml:1:1: (file): cannot read `/nonexistent/front.yaml`: no such file")
    }

    @Test func emptyEntriesAndNonMappingRootAreReported() {
        #expect(checkLines("- a\n- b\n") == ["front.yaml:1:1: (root): expected a mapping of keys, found a list"])
        #expect(
            checkLines(minimalYAML + "  -\n") == [
                "front.yaml:9:4: backends[1]: expected a mapping of keys, found an empty value"
            ])
    }
}
