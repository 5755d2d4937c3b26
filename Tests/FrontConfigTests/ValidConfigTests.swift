import Foundation
import Testing

@testable import FrontConfig

@Suite struct ValidConfigTests {
    /// Every key of the schema, each set away from its default.
    static func fullYAML(directory: String) -> String {
        """
        admin:
          bind: 127.0.0.1:9100
          token: change-me
        log:
          level: debug
          format: json
        drain_timeout: 45s
        max_connections: 50_000
        relay_threads: 3
        listeners:
          - name: mqtt
            bind: 0.0.0.0:8883
            protocol: mqtt
            backend: brokers
            reuse_port: true
            max_connections: 1000
            accept_proxy_protocol: true
            tls:
              certificate: \(directory)/server.pem
              private_key: server.key
              client_ca: \(directory)/ca.pem
            idle_timeout: 10m
            connect_timeout: 3s
            max_connect_size: 128KiB
            keepalive_factor: 2.0
            keepalive_min: 5s
            keepalive_max: 1h
            limits:
              per_source_ip: 10
              accept_rate: 500
            client_ids:
              allow: ["sensor-*", "gw-*"]
              deny: [sensor-bad]
          - name: redis
            bind: "[::1]:6380"
            protocol: tcp
            backend: redis
            idle_timeout: 1m30s
        backends:
          - name: brokers
            balance: username
            source_ips: [127.0.2.1, 127.0.2.2]
            connect_timeout: 1500ms
            retries: 3
            slow_start: 20s
            send_proxy_protocol: v2
            health_check:
              type: mqtt
              interval: 3s
              timeout: 500ms
              rise: 1
              fall: 5
              username: probe
              password: secret
            on_server_down: keep
            failback: manual
            on_failback: keep
            servers:
              - name: b1
                address: 127.0.0.1:1884
                weight: 10
                max_connections: 2000
                backup: false
                source_ips: ["::1"]
              - name: b2
                address: broker-2.internal:1883
                backup: true
          - name: redis
            balance: first
            health_check:
              type: send-expect
              send: 'PING\\r\\n\\x00'
              expect: "+PONG"
            servers:
              - address: "[fd00::5]:6379"

        """
    }

    @Test func fullFileRoundTripsToTheModel() throws {
        let directory = try ScratchDirectory()
        try directory.writePEM("server.pem")
        try directory.writePEM("server.key", kind: "PRIVATE KEY")
        try directory.writePEM("ca.pem")
        let file = try directory.write("front.yaml", Self.fullYAML(directory: directory.path))
        let config = try ConfigLoader.load(contentsOf: file)

        let expected = FrontConfiguration(
            admin: AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 9_100), token: "change-me"),
            log: LogConfig(level: .debug, format: .json),
            drainTimeout: .seconds(45),
            maxConnections: 50_000,
            relayThreads: 3,
            listeners: [
                ListenerConfig(
                    name: "mqtt", bind: Endpoint(host: "0.0.0.0", port: 8_883), protocol: .mqtt, backend: "brokers",
                    reusePort: true, maxConnections: 1_000, acceptProxyProtocol: true,
                    tls: TLSConfig(
                        certificate: directory.path + "/server.pem", privateKey: directory.path + "/server.key",
                        clientCA: directory.path + "/ca.pem"),
                    idleTimeout: .seconds(600), connectTimeout: .seconds(3), maxConnectSize: 131_072,
                    keepaliveFactor: 2.0, keepaliveMin: .seconds(5), keepaliveMax: .seconds(3_600),
                    limits: LimitsConfig(perSourceIP: 10, acceptRate: 500),
                    clientIDs: ClientIDFilter(allow: ["sensor-*", "gw-*"], deny: ["sensor-bad"])),
                ListenerConfig(
                    name: "redis", bind: Endpoint(host: "::1", port: 6_380), protocol: .tcp, backend: "redis",
                    idleTimeout: .seconds(90)),
            ],
            backends: [
                BackendConfig(
                    name: "brokers", balance: .username, sourceIPs: ["127.0.2.1", "127.0.2.2"],
                    connectTimeout: .milliseconds(1_500), retries: 3, slowStart: .seconds(20), sendProxyProtocol: .v2,
                    healthCheck: HealthCheckConfig(
                        type: .mqtt, interval: .seconds(3), timeout: .milliseconds(500), rise: 1, fall: 5,
                        username: "probe", password: "secret"),
                    onServerDown: .keep, failback: .manual, onFailback: .keep,
                    servers: [
                        ServerConfig(
                            name: "b1", address: Endpoint(host: "127.0.0.1", port: 1_884), weight: 10,
                            maxConnections: 2_000, backup: false, sourceIPs: ["::1"]),
                        ServerConfig(
                            name: "b2", address: Endpoint(host: "broker-2.internal", port: 1_883), backup: true),
                    ]),
                BackendConfig(
                    name: "redis", balance: .first,
                    healthCheck: HealthCheckConfig(
                        type: .sendExpect, send: Array("PING\r\n\u{0}".utf8), expect: "+PONG"),
                    servers: [ServerConfig(name: "[fd00::5]:6379", address: Endpoint(host: "fd00::5", port: 6_379))]),
            ])
        #expect(config == expected)
    }

    @Test func defaultsAreApplied() throws {
        let config = try #require(parseValid(minimalYAML))
        let expected = FrontConfiguration(
            listeners: [ListenerConfig(name: "m", bind: Endpoint(host: "127.0.0.1", port: 0), backend: "b")],
            backends: [
                BackendConfig(
                    name: "b", balance: .clientID,
                    servers: [ServerConfig(name: "127.0.0.1:1883", address: Endpoint(host: "127.0.0.1", port: 1_883))])
            ])
        #expect(config == expected)
        #expect(config.drainTimeout == .seconds(30))
        #expect(config.maxConnections == 100_000)
        #expect(config.relayThreads == nil)
        #expect(config.listeners[0].maxConnectSize == 65_536)
        #expect(config.listeners[0].keepaliveFactor == 1.5)
        #expect(config.backends[0].retries == 2)
    }

    @Test func defaultBalanceFollowsTheListeners() throws {
        let config = try #require(
            parseValid(
                """
                listeners:
                  - {name: m, bind: "127.0.0.1:1883", backend: mq}
                  - {name: t, bind: "127.0.0.1:6379", backend: tcp-only, protocol: tcp}
                  - {name: both-t, bind: "127.0.0.1:1884", backend: shared, protocol: tcp}
                  - {name: both-m, bind: "127.0.0.1:1885", backend: shared}
                backends:
                  - {name: mq, servers: [{address: "10.0.0.1:1883"}]}
                  - {name: tcp-only, servers: [{address: "10.0.0.2:6379"}]}
                  - {name: shared, servers: [{address: "10.0.0.3:1883"}]}
                  - {name: unused, servers: [{address: "10.0.0.4:1883"}]}
                """))
        #expect(config.backends.map(\.balance) == [.clientID, .roundRobin, .roundRobin, .clientID])
    }

    @Test func healthCheckTypeDefaultsToTCPAndNullsMeanDefaults() throws {
        let config = try #require(parseValid(minimalYAML + "log:\ndrain_timeout: ~\n"))
        #expect(config.log == LogConfig())
        #expect(config.drainTimeout == .seconds(30))
        let withCheck = try #require(
            parseValid(minimalYAML.replacingOccurrences(of: "    servers:", with: "    health_check: {}\n    servers:"))
        )
        #expect(withCheck.backends[0].healthCheck == HealthCheckConfig(type: .tcp))
    }

    @Test func sharedBindIsFineWithReusePortOnBoth() {
        let yaml = """
            listeners:
              - {name: a, bind: "0.0.0.0:1883", backend: b, reuse_port: true}
              - {name: c, bind: "0.0.0.0:1883", backend: b, reuse_port: true}
              - {name: d, bind: "127.0.0.1:0", backend: b}
              - {name: e, bind: "127.0.0.1:0", backend: b}
              - {name: f, bind: "[::1]:1884", backend: b}
              - {name: g, bind: "127.0.0.1:1884", backend: b}
            backends:
              - {name: b, servers: [{address: "10.0.0.1:1883"}]}
            """
        #expect(checkLines(yaml) == [])
    }

    @Test func mergeKeysAndAnchorsAreExpanded() throws {
        let config = try #require(
            parseValid(
                """
                listeners:
                  - {name: m, bind: "127.0.0.1:1883", backend: b}
                backends:
                  - name: b
                    servers:
                      - &base
                        name: s1
                        address: 10.0.0.1:1883
                        weight: 5
                        max_connections: 10
                      - <<: *base
                        name: s2
                        address: 10.0.0.2:1883
                        weight: 1
                """))
        #expect(config.backends[0].servers.map(\.name) == ["s1", "s2"])
        #expect(config.backends[0].servers.map(\.weight) == [5, 1])
        #expect(config.backends[0].servers.map(\.maxConnections) == [10, 10])
    }
}
