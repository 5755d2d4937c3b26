import Testing

@testable import MQTTWire

@Suite("MQTT stream tracker")
struct StreamTrackerTests {
    let connect = MQTTConnect(version: .v3_1_1, clientID: "dev").encode()
    let publish = MQTTPacket.publish(
        topic: "t/\u{E0}", payload: [0xE0, 0x00, 0xE0, 0x00] + Array(repeating: 7, count: 300))

    @Test("a DISCONNECT after other packets is seen, whole or byte by byte")
    func seesDisconnect() {
        let stream = connect + publish + MQTTPacket.pingReq + MQTTPacket.disconnect
        var whole = MQTTStreamTracker()
        whole.feed(stream)
        #expect(whole.sawDisconnect)
        var drip = MQTTStreamTracker()
        for (index, byte) in stream.enumerated() {
            #expect(!drip.sawDisconnect, "seen before byte \(index)")
            drip.feed([byte])
        }
        #expect(drip.sawDisconnect && drip.isTracking)
    }

    @Test("0xE0 bytes inside payloads are not mistaken for a DISCONNECT")
    func payloadIsSkipped() {
        var tracker = MQTTStreamTracker()
        tracker.feed(connect + publish + publish + MQTTPacket.pingReq)
        #expect(!tracker.sawDisconnect && tracker.isTracking)
    }

    @Test("a Remaining Length of 5 bytes stops tracking")
    func malformedStops() {
        var tracker = MQTTStreamTracker()
        tracker.feed([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0xE0, 0x00])
        #expect(!tracker.isTracking && !tracker.sawDisconnect)
    }

    @Test("packet boundaries: reading bytesToPacketBoundary at a time stops exactly at each packet's end")
    func boundaries() {
        let stream = connect + publish + MQTTPacket.pingReq
        var tracker = MQTTStreamTracker()
        #expect(tracker.isAtPacketBoundary && tracker.bytesToPacketBoundary == 0)
        var ends: [Int] = []
        var offset = 0
        while offset < stream.count {
            let step = max(tracker.bytesToPacketBoundary, 1)
            tracker.feed(Array(stream[offset..<min(offset + step, stream.count)]))
            offset += step
            if tracker.isAtPacketBoundary { ends.append(offset) }
        }
        #expect(ends == [connect.count, connect.count + publish.count, stream.count])
        var partial = MQTTStreamTracker()
        partial.feed(Array(publish.prefix(4)))
        #expect(!partial.isAtPacketBoundary)
        #expect(partial.bytesToPacketBoundary == publish.count - 4)
        var inHeader = MQTTStreamTracker()
        inHeader.feed([0x30])
        #expect(!inHeader.isAtPacketBoundary && inHeader.bytesToPacketBoundary == 1)
    }

    @Test("prefixToPacketBoundary: the rest of the packet in flight, header included, and nothing past it")
    func prefixToBoundary() {
        func prefix(_ tracker: MQTTStreamTracker, _ bytes: [UInt8]) -> Int {
            bytes.withUnsafeBytes { tracker.prefixToPacketBoundary(of: $0) }
        }
        let stream = publish + MQTTPacket.pingReq
        #expect(prefix(MQTTStreamTracker(), stream) == 0, "at a boundary nothing more belongs to the packet")
        for cut in [1, 2, 3, 10, publish.count - 1] {
            var tracker = MQTTStreamTracker()
            tracker.feed(Array(publish.prefix(cut)))
            #expect(prefix(tracker, Array(stream.dropFirst(cut))) == publish.count - cut, "cut at \(cut)")
            #expect(prefix(tracker, Array(publish.dropFirst(cut).prefix(1))) == 1)
        }
        var inPing = MQTTStreamTracker()
        inPing.feed([0xC0])
        #expect(prefix(inPing, [0x00, 0xC0, 0x00]) == 1)
        var lost = MQTTStreamTracker()
        lost.feed([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(prefix(lost, [1, 2, 3]) == 0)
    }
}
