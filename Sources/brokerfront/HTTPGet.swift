#if canImport(Glibc)
    import Glibc
#endif

/// A bounded, blocking HTTP/1.0 GET over a plain socket: enough for `brokerfront health`, with no
/// curl or libcurl in the image.
enum HTTPGet {
    /// Where to connect and what to ask for, from `http://HOST:PORT/PATH`.
    struct Target: Equatable {
        var host: String
        var port: Int
        var path: String

        /// Nil unless `url` is `http://` with a host, an optional port (default 80) and an optional path.
        init?(_ url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" }
            let path = rest.dropFirst(authority.count)
            var host = Substring(authority)
            var port = 80
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { return nil }
                host = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let parsed = Int(after.dropFirst()) else { return nil }
                    port = parsed
                } else if !after.isEmpty {
                    return nil
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                guard let parsed = Int(authority[authority.index(after: colon)...]) else { return nil }
                port = parsed
            }
            guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
            self.host = String(host)
            self.port = port
            self.path = path.isEmpty ? "/" : String(path)
        }
    }

    /// The status code and body of an answer.
    struct Answer {
        var status: Int
        var body: String
    }

    /// Why there is no answer.
    struct Failure: Error {
        var reason: String
    }

    /// The answer's first 64 KiB are read at most.
    static let maximumAnswer = 64 * 1024

    /// Connects, sends the GET and reads the answer until the peer closes: each step waits at most
    /// `timeout` seconds, and reading stops `timeout` seconds after the start.
    static func fetch(_ target: Target, timeout: Double) -> Result<Answer, Failure> {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        let fd: Int32
        switch connected(to: target, timeout: timeout) {
        case .success(let socket): fd = socket
        case .failure(let failure): return .failure(failure)
        }
        defer { close(fd) }
        let host = target.host.contains(":") ? "[\(target.host)]" : target.host
        let request = Array("GET \(target.path) HTTP/1.0\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else {
            return .failure(Failure(reason: "send: \(String(cString: strerror(errno)))"))
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < maximumAnswer {
            guard ContinuousClock.now < deadline else {
                return .failure(Failure(reason: "no complete answer within \(timeout) s"))
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else {
                return .failure(Failure(reason: "no complete answer within \(timeout) s"))
            }
            answer += buffer[0..<count]
        }
        return parse(answer)
    }

    /// A socket connected to the first of the target's addresses that accepts (`localhost` may be
    /// ::1 and 127.0.0.1), with send and receive timeouts set; the caller closes it.
    static func connected(to target: Target, timeout: Double) -> Result<Int32, Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.host, String(target.port), &hints, &list) == 0, list != nil else {
            return .failure(Failure(reason: "cannot resolve `\(target.host)`"))
        }
        defer { freeaddrinfo(list) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        var reason = "no address"
        var next = list
        while let address = next {
            next = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else {
                reason = "socket: \(String(cString: strerror(errno)))"
                continue
            }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            // A blocking connect honours SO_SNDTIMEO on Linux, so an unreachable address fails in time too.
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return .success(fd) }
            reason = String(cString: strerror(errno))
            close(fd)
        }
        return .failure(Failure(reason: "connect to \(target.host):\(target.port): \(reason)"))
    }

    /// Splits an HTTP/1.x answer into its status code and body.
    static func parse(_ bytes: [UInt8]) -> Result<Answer, Failure> {
        let text = String(decoding: bytes, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            return .failure(Failure(reason: "not an HTTP answer: `\(statusLine.prefix(80))`"))
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return .success(Answer(status: status, body: body))
    }
}
