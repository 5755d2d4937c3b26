/// `listeners[i].tls` — TLS termination (behaviour arrives with the edge issue; validated now).
public struct TLSConfig: Sendable, Equatable {
    public var certificate: String
    public var privateKey: String
    public var clientCA: String?

    public init(certificate: String, privateKey: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.clientCA = clientCA
    }
}
