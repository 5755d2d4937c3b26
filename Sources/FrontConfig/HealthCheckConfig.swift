/// `backends[i].health_check.type`.
public enum HealthCheckType: String, Sendable, CaseIterable {
    case tcp
    case mqtt
    case redisMaster = "redis-master"
    case sendExpect = "send-expect"
}

/// `backends[i].health_check`.
public struct HealthCheckConfig: Sendable, Equatable {
    public var type: HealthCheckType
    public var interval: Duration
    public var timeout: Duration
    public var rise: Int
    public var fall: Int
    /// send-expect only: bytes to send, escapes (`\r`, `\n`, `\xNN`) already decoded.
    public var send: [UInt8]?
    /// send-expect only: substring the answer must contain.
    public var expect: String?
    /// mqtt / redis-master.
    public var username: String?
    public var password: String?

    public init(
        type: HealthCheckType,
        interval: Duration = .seconds(2),
        timeout: Duration = .seconds(1),
        rise: Int = 2,
        fall: Int = 3,
        send: [UInt8]? = nil,
        expect: String? = nil,
        username: String? = nil,
        password: String? = nil
    ) {
        self.type = type
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
        self.send = send
        self.expect = expect
        self.username = username
        self.password = password
    }
}
