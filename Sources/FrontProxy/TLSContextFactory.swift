import FrontConfig
import NIOSSL

/// Builds the server-side TLS context of a listener: TLS 1.2 or later, the listener's certificate
/// chain and key, and — with `client_ca` — client certificates required and verified against it.
public enum TLSContextFactory {
    /// A context for `listener`, or nil when it has no `tls` section. Throws with the file and the
    /// reason when a certificate or key cannot be loaded.
    public static func make(for listener: ListenerConfig) throws -> NIOSSLContext? {
        guard let tls = listener.tls else { return nil }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certificate)
        } catch {
            throw TLSSetupError(setting: "tls.certificate", file: tls.certificate, reason: "\(error)")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError(setting: "tls.certificate", file: tls.certificate, reason: "no certificate in the file")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
        } catch {
            throw TLSSetupError(setting: "tls.private_key", file: tls.privateKey, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // A client that half-closes without close_notify would otherwise hold the session (and its
        // broker connection) for NIOSSL's default 5 s while the graceful shutdown waits.
        configuration.shutdownTimeout = .milliseconds(250)
        if let ca = tls.clientCA {
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(ca)
                configuration.trustRoots = .certificates(roots)
                configuration.certificateVerification = .noHostnameVerification
            } catch {
                throw TLSSetupError(setting: "tls.client_ca", file: ca, reason: "\(error)")
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                setting: "tls", file: tls.certificate,
                reason: "certificate and key do not form a usable context: \(error)")
        }
    }
}

/// A listener's TLS material could not be loaded.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    /// The key under the listener (`tls.certificate`, `tls.private_key`, `tls.client_ca`).
    public var setting: String
    public var file: String
    public var reason: String

    public var description: String { "\(setting): cannot use \(file): \(reason)" }
}
