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

@Suite("Health probe local errors")
struct HealthProbeLocalErrorTests {
    @Test(
        "a probe that meets EMFILE, ENFILE or no free port is no result, not a failed check",
        arguments: [EMFILE, ENFILE, ENOBUFS, EADDRNOTAVAIL])
    func localShortage(code: CInt) {
        let error = IOError(errnoCode: code, reason: "socket")
        #expect(HealthProbe.result(of: error, after: .milliseconds(1)) == nil)
    }

    @Test("a refused connect or a timeout is still a failed check")
    func serverFailures() {
        let refused = HealthProbe.result(
            of: IOError(errnoCode: ECONNREFUSED, reason: "connect"), after: .milliseconds(2))
        #expect(refused?.ok == false)
        #expect(refused?.message == "Connection refused (errno 111)")
        #expect(HealthProbe.result(of: ProbeError.timeout, after: .seconds(1))?.ok == false)
    }
}
