// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "brokerfront",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "brokerfront", targets: ["brokerfront"]),
        .executable(name: "brokerfront-bench", targets: ["brokerfront-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Pure MQTT codec: fixed header, varint, CONNECT parse, CONNACK build. No NIO.
        .target(name: "MQTTWire", swiftSettings: strict),
        // Pure PROXY protocol v1/v2 header codec (HAProxy's proxy-protocol.txt). No NIO.
        .target(name: "ProxyProtocol", swiftSettings: strict),
        // YAML model, defaults and validation with file:line:col and key paths.
        .target(
            name: "FrontConfig",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Pure decisions: balancers, consistent hash, server state, passive health. No sockets.
        .target(
            name: "FrontCore",
            dependencies: ["FrontConfig", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict),
        // One client session's decisions as a state machine: events in, actions out. No NIO, no sockets.
        .target(
            name: "FrontSession",
            dependencies: ["MQTTWire", "ProxyProtocol", "FrontConfig", "FrontCore"],
            swiftSettings: strict),
        // epoll/eventfd for the relay threads (not in the Glibc module).
        .target(name: "CEpoll"),
        // The data path on NIO: listener, CONNECT sniff, route, dial, relay, idle deadlines.
        .target(
            name: "FrontProxy",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "MQTTWire", "FrontConfig", "FrontCore", "FrontSession", "ProxyProtocol", "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Control plane services: admin HTTP, metrics, lifecycle.
        .target(
            name: "FrontControl",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "FrontProxy", "FrontConfig", "FrontCore", "ProxyProtocol", "MQTTWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "brokerfront",
            dependencies: [
                "FrontControl", "FrontConfig", "FrontProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The MQTT load generator and sink behind `brokerfront-bench`.
        .target(
            name: "FrontBench",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "MQTTWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "brokerfront-bench",
            dependencies: [
                "FrontBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Helpers for tests: real brokers on free ports, raw MQTT clients, CONNECT builders.
        .target(
            name: "FrontTesting",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "MQTTWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "MQTTWireTests", dependencies: ["MQTTWire"], swiftSettings: strict),
        .testTarget(name: "ProxyProtocolTests", dependencies: ["ProxyProtocol"], swiftSettings: strict),
        .testTarget(name: "FrontConfigTests", dependencies: ["FrontConfig"], swiftSettings: strict),
        .testTarget(
            name: "FrontSessionTests",
            dependencies: ["FrontSession", "FrontCore", "FrontConfig", "MQTTWire", "ProxyProtocol"],
            swiftSettings: strict),
        .testTarget(name: "FrontCoreTests", dependencies: ["FrontCore", "FrontConfig"], swiftSettings: strict),
        .testTarget(
            name: "FrontControlTests", dependencies: ["FrontControl", "FrontConfig", "FrontTesting"],
            swiftSettings: strict),
        .testTarget(
            name: "FrontProxyTests",
            dependencies: [
                "FrontProxy", "FrontConfig", "FrontCore", "FrontTesting", "MQTTWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FrontBenchTests", dependencies: ["FrontBench", "FrontTesting", "MQTTWire"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "FrontControl", "FrontProxy", "FrontConfig", "FrontTesting", "MQTTWire", "FrontBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
