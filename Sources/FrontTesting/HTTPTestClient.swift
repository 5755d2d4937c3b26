/// An HTTP/1.1 response as read by ``HTTPTestClient``.
public struct HTTPTestResponse: Sendable {
    /// Status code, e.g. 200.
    public var status: Int
    /// Header fields, names lower-cased (a repeated name keeps its last value).
    public var headers: [String: String]
    /// The body as UTF-8 text.
    public var body: String
}

/// Why an HTTP exchange failed.
public struct HTTPTestError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, e.g. a malformed status line.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// A raw HTTP/1.1 client for the admin plane: one request per connection (`Connection: close`), the
/// body read by `Content-Length`, chunked encoding, or until close.
public enum HTTPTestClient {
    /// `GET path` on `host:port`.
    public static func get(
        host: String = "127.0.0.1", port: Int, path: String, headers: [String: String] = [:],
        hostHeader: String?? = .none, timeout: Duration = .seconds(5)
    ) async throws -> HTTPTestResponse {
        try await request(
            method: "GET", host: host, port: port, path: path, headers: headers, hostHeader: hostHeader,
            timeout: timeout)
    }

    /// Any request; `body` is sent with a `Content-Length`. `contentType` goes with every request but
    /// GET and HEAD (the admin plane wants `application/json` on mutations; nil sends none), unless
    /// `headers` names a `Content-Type` of its own. `hostHeader`
    /// replaces the `Host` (default `host:port`; nil there too sends none).
    public static func request(
        method: String, host: String = "127.0.0.1", port: Int, path: String, body: String? = nil,
        headers extra: [String: String] = [:], contentType: String? = "application/json",
        hostHeader: String?? = .none, timeout: Duration = .seconds(5)
    ) async throws -> HTTPTestResponse {
        let deadline = ContinuousClock.now + timeout
        let client = try await TestClient.connect(host: host, port: port, timeout: timeout)
        do {
            var request = "\(method) \(path) HTTP/1.1\r\n"
            if let hostValue = hostHeader ?? "\(host):\(port)" { request += "Host: \(hostValue)\r\n" }
            request += "Connection: close\r\n"
            for (name, value) in extra { request += "\(name): \(value)\r\n" }
            let typed = extra.keys.contains { $0.lowercased() == "content-type" }
            if let contentType, !typed, body != nil || !["GET", "HEAD"].contains(method) {
                request += "Content-Type: \(contentType)\r\n"
            }
            if let body {
                request += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            } else {
                request += "\r\n"
            }
            try await client.send(request)
            let head = try await client.read(until: Array("\r\n\r\n".utf8), timeout: remaining(deadline))
            var response = try parseHead(String(decoding: head, as: UTF8.self))
            let bodyBytes: [UInt8]
            if let length = response.headers["content-length"].flatMap({ Int($0) }) {
                bodyBytes = try await client.read(count: length, timeout: remaining(deadline))
            } else if response.headers["transfer-encoding"]?.lowercased() == "chunked" {
                bodyBytes = try await readChunked(client, deadline: deadline)
            } else {
                bodyBytes = try await client.readUntilClose(timeout: remaining(deadline))
            }
            response.body = String(decoding: bodyBytes, as: UTF8.self)
            await client.close()
            return response
        } catch {
            await client.close()
            throw error
        }
    }

    private static func parseHead(_ head: String) throws -> HTTPTestResponse {
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let statusLine = lines.first else { throw HTTPTestError(message: "empty HTTP response") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPTestError(message: "bad HTTP status line: \(statusLine)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            headers[name] = value
        }
        return HTTPTestResponse(status: status, headers: headers, body: "")
    }

    private static func readChunked(_ client: TestClient, deadline: ContinuousClock.Instant) async throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try await client.read(until: Array("\r\n".utf8), timeout: remaining(deadline))
            let text = String(decoding: sizeLine.dropLast(2), as: UTF8.self)
            guard let size = Int(text.split(separator: ";").first ?? "", radix: 16) else {
                throw HTTPTestError(message: "bad chunk size line: \(text)")
            }
            if size == 0 {
                _ = try? await client.read(until: Array("\r\n".utf8), timeout: remaining(deadline))
                return body
            }
            body += try await client.read(count: size, timeout: remaining(deadline))
            _ = try await client.read(count: 2, timeout: remaining(deadline))
        }
    }

    private static func remaining(_ deadline: ContinuousClock.Instant) -> Duration {
        max(.zero, deadline - ContinuousClock.now)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
