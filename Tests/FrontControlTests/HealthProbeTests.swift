import Glibc
import NIOCore
import Testing

@testable import FrontControl

@Suite("Health probe messages")
struct HealthProbeTests {
    @Test("a socket error reads as the system's text and errno, without NIO's internal reason")
    func socketError() {
        let refused = IOError(errnoCode: ECONNREFUSED, reason: "connection reset (error set)")
        #expect(HealthProbe.describe(refused) == "Connection refused (errno 111)")
    }

    @Test("a connect timeout is named as such")
    func connectTimeout() {
        #expect(HealthProbe.describe(ChannelError.connectTimeout(.seconds(1))) == "connect timeout")
    }
}
