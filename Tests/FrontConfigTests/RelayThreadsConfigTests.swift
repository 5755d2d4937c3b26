import Testing

@testable import FrontConfig

/// `relay_threads`: auto (one per two event loops, at least one), 0 (off) or a count up to 64.
@Suite("relay_threads")
struct RelayThreadsConfigTests {
    static func yaml(_ value: String) -> String {
        "relay_threads: \(value)\n" + minimalYAML
    }

    @Test("auto, 0 and a count are read")
    func parses() throws {
        #expect(try #require(parseValid(Self.yaml("auto"))).relayThreads == nil)
        #expect(try #require(parseValid(Self.yaml("0"))).relayThreads == 0)
        #expect(try #require(parseValid(Self.yaml("4"))).relayThreads == 4)
    }

    @Test("auto is one relay thread per two event loops, at least one; a count is used as written")
    func threadCount() throws {
        let auto = try #require(parseValid(Self.yaml("auto")))
        #expect([1, 2, 3, 4, 16].map { auto.relayThreadCount(eventLoops: $0) } == [1, 1, 1, 2, 8])
        let off = try #require(parseValid(Self.yaml("0")))
        #expect(off.relayThreadCount(eventLoops: 8) == 0)
        let three = try #require(parseValid(Self.yaml("3")))
        #expect(three.relayThreadCount(eventLoops: 2) == 3)
    }

    @Test("a negative, too large or non-numeric value is refused at its line")
    func refuses() {
        for value in ["-1", "65", "many"] {
            let lines = checkLines(Self.yaml(value))
            #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("relay_threads"), "\(lines)")
        }
    }
}

/// `relay_slice`: the scheduler time slice a relay thread asks for; 0 keeps the kernel's default.
@Suite("relay_slice")
struct RelaySliceConfigTests {
    static func yaml(_ value: String) -> String {
        "relay_slice: \(value)\n" + minimalYAML
    }

    @Test("absent is 100us; 0, the bounds and a value between are read")
    func parses() throws {
        #expect(try #require(parseValid(minimalYAML)).relaySlice == .microseconds(100))
        #expect(try #require(parseValid(Self.yaml("0"))).relaySlice == .zero)
        #expect(try #require(parseValid(Self.yaml("100us"))).relaySlice == .microseconds(100))
        #expect(try #require(parseValid(Self.yaml("750µs"))).relaySlice == .microseconds(750))
        #expect(try #require(parseValid(Self.yaml("100ms"))).relaySlice == .milliseconds(100))
    }

    @Test("outside 100us...100ms, or not a duration, is refused at its line with the range")
    func refuses() {
        for value in ["50us", "101ms", "1s", "100", "fast"] {
            let lines = checkLines(Self.yaml(value))
            #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("relay_slice"), "\(lines)")
        }
        let lines = checkLines(Self.yaml("50us"))
        #expect(lines.first?.contains("between 100us and 100ms") == true, "\(lines)")
    }
}

/// `relay_connect` and `relay_accept` no longer do anything: files that still hold them load, with a warning.
@Suite("Removed relay keys")
struct RemovedRelayKeysConfigTests {
    @Test("relay_connect and relay_accept load whatever their value, and the warning names them; without them, none")
    func ignoredWithWarning() throws {
        #expect(try #require(parseValid(minimalYAML)).ignoredKeysWarning == nil)
        let both = try #require(parseValid("relay_accept: perhaps\nrelay_connect: false\n" + minimalYAML))
        #expect(both.ignoredKeys == ["relay_connect", "relay_accept"])
        let warning = try #require(both.ignoredKeysWarning)
        #expect(warning.hasPrefix("relay_connect and relay_accept are ignored"), "\(warning)")
        let one = try #require(parseValid("relay_connect: true\n" + minimalYAML))
        #expect(one.ignoredKeysWarning?.hasPrefix("relay_connect is ignored") == true)
        #expect(checkLines("relay_accept: false\n" + minimalYAML).isEmpty)
    }
}

/// `relay_spread`: sessions start on the first relay thread; those this old move to the least loaded.
@Suite("relay_spread")
struct RelaySpreadConfigTests {
    static func yaml(_ value: String) -> String {
        "relay_spread: \(value)\n" + minimalYAML
    }

    @Test("absent is 0 (off); 0, 100ms and longer are read")
    func parses() throws {
        #expect(try #require(parseValid(minimalYAML)).relaySpread == .zero)
        #expect(try #require(parseValid(Self.yaml("0"))).relaySpread == .zero)
        #expect(try #require(parseValid(Self.yaml("100ms"))).relaySpread == .milliseconds(100))
        #expect(try #require(parseValid(Self.yaml("1s"))).relaySpread == .seconds(1))
    }

    @Test("below 100ms (but not 0), or not a duration, is refused at its line")
    func refuses() {
        for value in ["50ms", "1us", "soon"] {
            let lines = checkLines(Self.yaml(value))
            #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("relay_spread"), "\(lines)")
        }
        #expect(checkLines(Self.yaml("50ms")).first?.contains("100ms at the soonest") == true)
    }
}

/// `relay_assist`: each relay thread gets a thread that relays part of its large batches.
@Suite("relay_assist")
struct RelayAssistConfigTests {
    @Test("absent is auto; auto, true and false are read; anything else is refused at its line")
    func parses() throws {
        #expect(try #require(parseValid(minimalYAML)).relayAssist == nil)
        #expect(try #require(parseValid("relay_assist: auto\n" + minimalYAML)).relayAssist == nil)
        #expect(try #require(parseValid("relay_assist: false\n" + minimalYAML)).relayAssist == false)
        #expect(try #require(parseValid("relay_assist: true\n" + minimalYAML)).relayAssist == true)
        let lines = checkLines("relay_assist: often\n" + minimalYAML)
        #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("relay_assist"), "\(lines)")
    }

    @Test("auto is on with two CPUs or more per relay thread; true and false are used as written")
    func autoNeedsASpareCPU() throws {
        let auto = try #require(parseValid(minimalYAML))
        // (cpus, event loops): auto relay threads are one per two event loops.
        #expect(auto.relayAssistOn(cpus: 2, eventLoops: 2))
        #expect(!auto.relayAssistOn(cpus: 1, eventLoops: 1))
        #expect(auto.relayAssistOn(cpus: 8, eventLoops: 8))
        let four = try #require(parseValid("relay_threads: 4\n" + minimalYAML))
        #expect(!four.relayAssistOn(cpus: 4, eventLoops: 4))
        #expect(four.relayAssistOn(cpus: 8, eventLoops: 4))
        let on = try #require(parseValid("relay_assist: true\n" + minimalYAML))
        #expect(on.relayAssistOn(cpus: 1, eventLoops: 1))
        let off = try #require(parseValid("relay_assist: false\n" + minimalYAML))
        #expect(!off.relayAssistOn(cpus: 16, eventLoops: 16))
    }
}
