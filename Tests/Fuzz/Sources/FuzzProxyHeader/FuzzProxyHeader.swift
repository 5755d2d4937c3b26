import CLibFuzzer
import ProxyProtocol

/// libFuzzer target for `ProxyHeaderParser.parse(_:)` (PROXY protocol v1 and v2 headers from an upstream
/// balancer). Checks, besides "never traps", that verdicts are consistent and that a header the parser
/// accepts can be sent on by the encoder (`send_proxy_protocol`) and reads back the same.
///
/// See FuzzMQTTCodec for why this supplies `FuzzProxyHeader_main`.
@_cdecl("FuzzProxyHeader_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        ProxyHeaderOracle.check(bytes)
        return 0
    }
}

/// The properties checked on each input.
enum ProxyHeaderOracle {
    static func check(_ bytes: [UInt8]) {
        let result = ProxyHeaderParser.parse(bytes)
        switch result {
        case .needMoreData:
            return
        case .complete(let header, let length):
            precondition(length > 0 && length <= bytes.count, "length \(length)")
            let exact = Array(bytes[0..<length])
            precondition(ProxyHeaderParser.parse(exact) == result)
            for cut in Set([0, 1, length / 2, length - 1]) where cut < length {
                precondition(
                    ProxyHeaderParser.parse(Array(exact[0..<cut])) == .needMoreData,
                    "a \(cut)-byte prefix of a complete header got a verdict")
            }
            checkReencoding(header)
        case .invalid:
            break
        }
        precondition(ProxyHeaderParser.parse(bytes + [0x0D, 0x0A, 0x00]) == result, "a verdict changed")
    }

    /// Addresses the parser accepted are addresses the encoder can send: encoding them in the same
    /// version gives a header that parses to the same ports and to a fixed point (a second round trip
    /// changes nothing), never the UNKNOWN / AF_UNSPEC fallback.
    static func checkReencoding(_ header: ProxyHeader) {
        guard header.command == .proxy, let source = header.source, let destination = header.destination else {
            return
        }
        func encode(_ source: ProxyAddress, _ destination: ProxyAddress) -> [UInt8] {
            header.version == 1
                ? ProxyHeaderEncoder.v1(source: source, destination: destination)
                : ProxyHeaderEncoder.v2(source: source, destination: destination)
        }
        let first = encode(source, destination)
        guard case .complete(let again, let length) = ProxyHeaderParser.parse(first), length == first.count,
            let source2 = again.source, let destination2 = again.destination
        else {
            preconditionFailure("the encoder could not send the addresses \(source) -> \(destination)")
        }
        precondition(source2.port == source.port && destination2.port == destination.port, "ports changed")
        precondition(encode(source2, destination2) == first, "re-encoding is not a fixed point")
    }
}
