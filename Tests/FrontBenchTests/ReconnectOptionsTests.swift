import FrontBench
import Testing

/// The reconnecting mode's command-line values and the combinations a run refuses.
@Suite struct ReconnectOptionsTests {
    @Test func parsesEndpointLists() throws {
        let brokers = try BenchValueParsers.endpoints("127.0.0.1:1883,127.0.0.2:1884")
        #expect(
            brokers == [BenchEndpoint(host: "127.0.0.1", port: 1883), BenchEndpoint(host: "127.0.0.2", port: 1884)])
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.endpoints("") }
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.endpoints("127.0.0.1:1883,nope") }
    }

    @Test(arguments: ["storm", "a/b", "wills-1"])
    func acceptsPlainTopicPrefixes(_ text: String) throws {
        #expect(try BenchValueParsers.topicPrefix(text) == text)
    }

    @Test(arguments: ["", "storm/", "a/+", "#", "a\u{0}b"])
    func rejectsWildcardsAndTrailingSlashes(_ text: String) {
        #expect(throws: BenchOptionError.self) { try BenchValueParsers.topicPrefix(text) }
    }

    @Test func watcherNeedsWills() throws {
        var options = LoadOptions()
        options.watchWills = [BenchEndpoint(host: "127.0.0.1", port: 1883)]
        #expect(throws: BenchOptionError.self) { try options.validate() }
        options.client.willTopicPrefix = "storm"
        try options.validate()
    }

    @Test func reconnectExcludesChurnAndPairs() throws {
        var options = LoadOptions()
        options.reconnect = .standard
        try options.validate()
        options.client.closeAfterConnAck = true
        #expect(throws: BenchOptionError.self) { try options.validate() }
        options.client.closeAfterConnAck = false
        options.connections = 4
        options.pairs = 1
        #expect(throws: BenchOptionError.self) { try options.validate() }
    }

    @Test func progressLineShowsClosesOnlyOnceThereAreAny() {
        var sample = ProgressSample(
            phase: "hold", elapsedSeconds: 3, connected: 5, failed: 0, active: 4, dropped: 1, received: 0,
            intervalSeconds: 1, closed: 1, reconnects: 0)
        #expect(ProgressPrinter.line(sample, previousReceived: 0).hasSuffix(" msgs_per_s=0 closed=1 reconnects=0"))
        sample.closed = 0
        #expect(ProgressPrinter.line(sample, previousReceived: 0).hasSuffix(" msgs_per_s=0"))
    }
}
