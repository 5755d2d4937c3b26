import FrontConfig
import NIOSSL

/// Builds the server-side TLS context of a listener: TLS 1.2 or later, the listener's certificate
/// chain and key, and — with `client_ca` — client certificates required and verified against it.
public enum TLSContextFactory {
    /// A context for `listener`, or nil when it has no `tls` section. Throws with the file and the
    /// reason when a certificate or key cannot be loaded.
    public static func make(for listener: ListenerConfig) throws -> NIOSSLContext? {
        guard let tls = listener.tls else { return nil }
        return try context(
            tls, chain: try certificates(tls.certificate, setting: "tls.certificate"),
            key: try privateKey(tls.privateKey),
            roots: try tls.clientCA.map { try certificates($0, setting: "tls.client_ca") })
    }

    /// Every reason `listener`'s TLS material cannot be used, each file tried on its own (`check`
    /// reports them all at once); whether they make a context is tried only when each file loads.
    public static func problems(for listener: ListenerConfig) -> [TLSSetupError] {
        guard let tls = listener.tls else { return [] }
        var found: [TLSSetupError] = []
        var chain: [NIOSSLCertificate]?
        var key: NIOSSLPrivateKey?
        var roots: [NIOSSLCertificate]?
        do { chain = try certificates(tls.certificate, setting: "tls.certificate") } catch { found.append(error) }
        do { key = try privateKey(tls.privateKey) } catch { found.append(error) }
        if let ca = tls.clientCA {
            do { roots = try certificates(ca, setting: "tls.client_ca") } catch { found.append(error) }
        }
        guard found.isEmpty, let chain, let key else { return found }
        do {
            _ = try context(tls, chain: chain, key: key, roots: roots)
        } catch {
            found.append(error)
        }
        return found
    }

    /// The server context of loaded material: TLS 1.2 or later, and client certificates required
    /// and verified against `roots` when given.
    private static func context(
        _ tls: TLSConfig, chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, roots: [NIOSSLCertificate]?
    ) throws(TLSSetupError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // A client that half-closes without close_notify would otherwise hold the session (and its
        // broker connection) for NIOSSL's default 5 s while the graceful shutdown waits.
        configuration.shutdownTimeout = .milliseconds(250)
        if let roots {
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                setting: "tls", file: tls.certificate,
                reason: "certificate and key do not form a usable context: \(error)")
        }
    }

    /// The PEM certificates in `file` (a chain, or a CA bundle); at least one.
    private static func certificates(_ file: String, setting: String) throws(TLSSetupError) -> [NIOSSLCertificate] {
        let loaded: [NIOSSLCertificate]
        do {
            loaded = try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw TLSSetupError(setting: setting, file: file, reason: "no PEM certificate could be read (\(error))")
        }
        guard !loaded.isEmpty else {
            throw TLSSetupError(setting: setting, file: file, reason: "no certificate in the file")
        }
        return loaded
    }

    /// The PEM private key in `file`.
    private static func privateKey(_ file: String) throws(TLSSetupError) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: file, format: .pem)
        } catch {
            throw TLSSetupError(
                setting: "tls.private_key", file: file, reason: "no PEM private key could be read (\(error))")
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
