import Testing

@testable import FrontControl

/// The pure readers behind the mqtt, redis-master and send-expect checks, fed whole and in pieces.
@Suite("health check replies")
struct ProbeRepliesTests {
    @Test("CONNACK: accepted passes, refusals fail with their meaning, other bytes fail, a prefix waits")
    func connack() {
        #expect(ProbeReplies.connack([]) == nil)
        #expect(ProbeReplies.connack([0x20]) == nil)
        #expect(ProbeReplies.connack([0x20, 0x02, 0x00, 0x00])?.ok == true)
        let refused = ProbeReplies.connack([0x20, 0x02, 0x00, 0x05])
        #expect(refused?.ok == false && refused?.message == "CONNACK 5 not authorized")
        #expect(ProbeReplies.connack(Array("HTTP/1.1 400".utf8))?.message == "not a CONNACK (first byte 0x48)")
    }

    @Test("RESP: simple, error, integer and bulk replies; incomplete ones wait; any announced length")
    func resp() {
        #expect(ProbeReplies.respReply(Array("+PONG\r\n".utf8)) == "+PONG")
        #expect(ProbeReplies.respReply(Array("-ERR no\r\n".utf8)) == "-ERR no")
        #expect(ProbeReplies.respReply(Array(":12\r\n".utf8)) == ":12")
        #expect(ProbeReplies.respReply(Array("+PON".utf8)) == nil)
        let bulk = Array("$11\r\nrole:master\r\n".utf8)
        #expect(ProbeReplies.respReply(bulk) == "role:master")
        for cut in 0..<bulk.count {
            #expect(ProbeReplies.respReply(Array(bulk[..<cut])) == nil, "prefix of \(cut) bytes")
        }
        #expect(ProbeReplies.respReply(Array("$-1\r\n".utf8)) == "")
        // A length near Int.max once overflowed `start + length + 2` and ended the front.
        #expect(ProbeReplies.respReply(Array("$9223372036854775807\r\nabc\r\n".utf8)) == nil)
        #expect(ProbeReplies.respReply(Array("$9223372036854775806\r\n".utf8)) == nil)
    }

    @Test("INFO replication: only role:master passes")
    func redisRole() {
        #expect(ProbeReplies.redisRole("# Replication\r\nrole:master\r\nconnected_slaves:1").ok)
        #expect(ProbeReplies.redisRole("role:slave\r\nmaster_host:x") == (false, "role:slave"))
        #expect(ProbeReplies.redisRole("nothing") == (false, "no role in INFO replication"))
    }

    @Test("send-expect: the expected bytes anywhere in what arrived")
    func contains() {
        #expect(ProbeReplies.contains(Array("xxOKyy".utf8), Array("OK".utf8)))
        #expect(!ProbeReplies.contains(Array("O".utf8), Array("OK".utf8)))
        #expect(ProbeReplies.contains([], []))
        #expect(!ProbeReplies.contains(Array("KO".utf8), Array("OK".utf8)))
    }
}
