import FrontCore
import MQTTWire
import Testing

@testable import FrontSession

/// From accept to routing: PROXY header, CONNECT sniffing and its verdict, admission, the connect deadline.
@Suite("Session machine: before the dial")
struct ConnectPhaseTests {
    @Test("a CONNECT arriving one byte at a time is parsed once, when whole, then admitted and routed")
    func byteByByte() {
        var session = SessionHarness()
        #expect(session.feed(.admission(.admitted)) == ["sniff"])
        #expect(session.machine.phase == .sniffing)
        let connect = SessionHarness.connect(id: "dribbler")
        for byte in connect.dropLast() {
            #expect(session.client([byte]) == [])
        }
        #expect(session.machine.connect == nil)
        #expect(session.client([connect[connect.count - 1]]) == ["admit"])
        #expect(session.machine.connect?.clientID == "dribbler")
        #expect(session.machine.phase == .admitting)
        #expect(session.feed(.admission(.admitted)) == ["disarm", "route"])
        #expect(session.machine.phase == .routing)
    }

    @Test("invalid first packets get what a broker answers, as malformed_connect; no server is dialed")
    func invalidConnects() {
        // Not a CONNECT (a PUBLISH): a close alone.
        var publish = SessionHarness()
        publish.feed(.admission(.admitted))
        #expect(publish.client([0x30, 0x02, 0x00, 0x00]) == ["invalid", "refuse malformed_connect"])
        #expect(publish.machine.reason == .malformedConnect)
        #expect(publish.machine.phase == .closing)
        // Bad protocol level: CONNACK return code 1 (3.1.1 framing).
        var level = SessionHarness()
        level.feed(.admission(.admitted))
        var bytes = SessionHarness.connect()
        bytes[8] = 9
        #expect(level.client(bytes) == ["invalid", "refuse malformed_connect 20 2 0 1"])
        // Oversized (max_connect_size 1024): refused from the fixed header alone.
        var large = SessionHarness()
        large.feed(.admission(.admitted))
        #expect(large.client([0x10, 0xFF, 0x7F]) == ["invalid", "refuse malformed_connect"])
        // A 5.0 CONNECT with a bad property: CONNACK with a reason code before the close.
        var v5 = SessionHarness()
        v5.feed(.admission(.admitted))
        var packet = SessionHarness.connect(.v5)
        packet[10 + 2] = 0x01  // properties length 1 with no property bytes left → malformed
        let actions = v5.client(packet)
        #expect(actions.count == 2)
        #expect(actions.last?.hasPrefix("refuse malformed_connect 20") == true)
    }

    @Test("admission: denied and limit refusals answer with the CONNACK of the client's version")
    func admissionRefusals() {
        var denied = SessionHarness()
        denied.feed(.admission(.admitted))
        denied.client(SessionHarness.connect(.v3_1_1))
        #expect(denied.feed(.admission(.refused(.denied))) == ["refuse denied 20 2 0 2"])
        var limited = SessionHarness()
        limited.feed(.admission(.admitted))
        limited.client(SessionHarness.connect(.v5))
        #expect(limited.feed(.admission(.refused(.limit))) == ["refuse limit 20 3 0 97 0"])
        // At accept (per_source_ip, untrusted PROXY sender): a close with no bytes.
        var early = SessionHarness()
        #expect(early.feed(.admission(.refused(.limit))) == ["close limit"])
        #expect(early.machine.reason == .limit)
    }

    @Test(
        "accept_rate: a queued session waits (deadline running), then goes on; a TLS accept-time queue resumes identification"
    )
    func queuedAdmission() {
        var session = SessionHarness()
        session.feed(.admission(.admitted))
        session.client(SessionHarness.connect())
        #expect(session.feed(.admission(.queued)) == [])
        #expect(session.machine.phase == .awaitingAdmission)
        #expect(session.machine.deadline == session.machine.connectDeadline)
        #expect(session.feed(.admission(.admitted)) == ["disarm", "route"])
        var tls = SessionHarness()
        #expect(tls.feed(.admission(.queued)) == [])
        #expect(tls.feed(.admission(.admitted)) == ["sniff"])
    }

    @Test(
        "the connect deadline: during the PROXY header it is proxy_protocol, while sniffing or queued connect_timeout")
    func connectDeadlines() {
        let listener = SessionHarness.listener(proxy: true, connectTimeout: .seconds(1))
        var header = SessionHarness(listener: listener)
        #expect(header.feed(.admission(.admitted)) == [])
        #expect(header.machine.phase == .awaitingProxyHeader)
        header.advance(.milliseconds(999))
        #expect(header.feed(.tick) == ["arm"])
        header.advance(.milliseconds(1))
        #expect(header.feed(.tick) == ["close proxy_protocol"])

        var sniffing = SessionHarness(listener: SessionHarness.listener(connectTimeout: .seconds(1)))
        sniffing.feed(.admission(.admitted))
        sniffing.client(Array(SessionHarness.connect().prefix(5)))
        sniffing.advance(.seconds(1))
        #expect(sniffing.feed(.tick) == ["close connect_timeout"])

        var queued = SessionHarness(listener: SessionHarness.listener(connectTimeout: .seconds(1)))
        queued.feed(.admission(.admitted))
        queued.client(SessionHarness.connect())
        queued.feed(.admission(.queued))
        queued.advance(.seconds(2))
        #expect(queued.feed(.tick) == ["close connect_timeout"])
        #expect(queued.machine.reason == .connectTimeout)
        #expect(CloseReason.connectTimeout.isRejection)

        // Routed: no connect deadline any more.
        var routed = SessionHarness(listener: SessionHarness.listener(connectTimeout: .seconds(1)))
        routed.dialing(SessionHarness.backend())
        routed.advance(.seconds(5))
        #expect(routed.feed(.tick) == ["disarm"])
    }

    @Test(
        "accept_proxy_protocol: an invalid header is proxy_protocol; a valid one leads to the CONNECT, sniffing what came with it"
    )
    func proxyHeader() {
        var bare = SessionHarness(listener: SessionHarness.listener(proxy: true))
        bare.feed(.admission(.admitted))
        #expect(bare.feed(.proxyHeader(valid: false)) == ["close proxy_protocol"])
        var good = SessionHarness(listener: SessionHarness.listener(proxy: true))
        good.feed(.admission(.admitted))
        #expect(good.feed(.proxyHeader(valid: true)) == ["sniff"])
        #expect(good.client(SessionHarness.connect()) == ["admit"])
    }

    @Test("the client leaving before its CONNECT is client_closed; during the dial it waits for the relay")
    func clientLeavesEarly() {
        var session = SessionHarness()
        session.feed(.admission(.admitted))
        #expect(session.feed(.inputClosed(.client)) == ["close client_closed"])
        var dialing = SessionHarness()
        dialing.dialing(SessionHarness.backend())
        #expect(dialing.feed(.inputClosed(.client)) == [])
        #expect(dialing.opened().contains("shutdown server"))
    }

    @Test("tcp listener: no sniffing; admitted at once, routed, and refused without bytes when no server is left")
    func tcpListener() {
        var session = SessionHarness(listener: SessionHarness.listener(protocol: .tcp, idle: .seconds(30)))
        #expect(session.feed(.admission(.admitted)) == ["admit"])
        #expect(session.client([0x2A, 0x31]) == [])
        #expect(session.feed(.admission(.admitted)) == ["disarm", "route"])
        #expect(session.route(nil) == ["refuse no_server"])
        var relayed = SessionHarness(listener: SessionHarness.listener(protocol: .tcp, idle: .seconds(30)))
        relayed.feed(.admission(.admitted))
        relayed.feed(.admission(.admitted))
        #expect(relayed.route(SessionHarness.backend()) == ["dial b1"])
        #expect(relayed.machine.keepsReplay == false)
        #expect(relayed.opened() == ["arm"])
        #expect(relayed.until(relayed.machine.deadline) == .seconds(30))
        // tcp: the server's bytes are activity too.
        relayed.advance(.seconds(20))
        relayed.server([1, 2, 3])
        #expect(relayed.until(relayed.machine.deadline) == .seconds(30))
    }
}
