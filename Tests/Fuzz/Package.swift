// swift-tools-version:6.1
// libFuzzer targets for the parsers that read untrusted bytes: the MQTT codec (MQTTWire), the PROXY
// protocol header parser (ProxyProtocol) and the YAML configuration loader (FrontConfig), whose
// accepted configurations also go through the runtime arithmetic of FrontCore (routing, deadlines).
//
// A package of its own so `swift build` / `swift test` of brokerfront never see `-sanitize=fuzzer`.
// SwiftPM does not accept target paths outside the package root, so Sources/MQTTWire, ProxyProtocol and
// FrontConfig, FrontCore are symlinks to the real ../../../Sources/... directories: the fuzzers build the product
// code itself, not a copy. Build and run with scripts/fuzz.sh (see docs/robustness.md).
import PackageDescription

let settings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "BrokerfrontFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        .target(name: "MQTTWire", swiftSettings: settings),
        .target(name: "ProxyProtocol", swiftSettings: settings),
        .target(
            name: "FrontConfig", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: settings),
        .target(
            name: "FrontCore",
            dependencies: ["FrontConfig", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: settings),
        // Declares libFuzzer's LLVMFuzzerRunDriver for the entry points.
        .target(name: "CLibFuzzer"),
        .executableTarget(name: "FuzzMQTTCodec", dependencies: ["MQTTWire", "CLibFuzzer"], swiftSettings: settings),
        .executableTarget(
            name: "FuzzProxyHeader", dependencies: ["ProxyProtocol", "CLibFuzzer"], swiftSettings: settings),
        .executableTarget(
            name: "FuzzConfig", dependencies: ["FrontConfig", "FrontCore", "CLibFuzzer"], swiftSettings: settings),
    ]
)
