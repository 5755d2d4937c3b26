import FrontConfig
import FrontControl
import FrontTesting
import Testing

/// TLS material renewed in place: the same paths, new contents, then a reload.
@Suite("TLS material rotated in place")
struct TLSRotationTests {
    /// The serial and subject of the certificate the listener on `port` serves now, as
    /// `openssl x509 -noout -serial -subject` prints them (read from a fresh `openssl s_client` handshake).
    static func servedCertificate(port: Int) async throws -> String {
        let result = try await CommandLineTool.run(
            "sh",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null"
                    + " | openssl x509 -noout -serial -subject",
            ], timeout: .seconds(15))
        return result.stdout
    }

    /// Writes a new key and a certificate signed by the test CA (serial `serial`, subject CN `name`)
    /// over the server's certificate and key files.
    static func renew(_ certificates: TestCertificates, serial: Int, name: String) async throws {
        let dir = certificates.directory.path
        let steps: [[String]] = [
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                certificates.serverKey, "-out", "\(dir)/renewed.csr", "-subj", "/CN=\(name)",
            ],
            [
                "x509", "-req", "-in", "\(dir)/renewed.csr", "-CA", certificates.caCertificate, "-CAkey",
                "\(dir)/ca.key", "-set_serial", "\(serial)", "-days", "2", "-out", certificates.serverCertificate,
                "-extfile", "\(dir)/server.ext",
            ],
        ]
        for step in steps {
            let result = try await CommandLineTool.run("openssl", step, timeout: .seconds(20))
            guard result.status == 0 else { throw HarnessError("openssl \(step) failed: \(result.stderr)") }
        }
    }

    /// Why a reload was not applied; nil when it was.
    static func failure(of result: ReloadResult) -> String? {
        switch result {
        case .applied: nil
        case .invalid(let problems): problems.joined(separator: "; ")
        case .failed(let reason): reason
        }
    }

    @Test(
        "a certificate renewed at the same path is served from the next connection after a reload; a broken file at that path fails the reload and the renewed one stays"
    )
    func renewedInPlace() async throws {
        try await TLSTests.withTLSFront(clientCA: false) { front, broker, certificates, config in
            let port = try front.port()
            let before = try await Self.servedCertificate(port: port)
            #expect(before.contains("serial=02") && before.contains("CN = localhost"), "\(before)")

            try await Self.renew(certificates, serial: 5, name: "localhost-renewed")
            let applied = await front.runner.reloader.reload(with: config)
            #expect(Self.failure(of: applied) == nil, "the reload after the renewal was not applied")
            let renewed = try await Self.servedCertificate(port: port)
            #expect(renewed.contains("serial=05") && renewed.contains("CN = localhost-renewed"), "\(renewed)")
            let published = try await TLSTests.publish(port: port, certificates: certificates, clientID: "renewed")
            #expect(published.status == 0, "\(published.stderr)")

            // A rotation gone wrong at the same path: the reload fails whole and the renewed certificate stays.
            _ = try certificates.directory.write(
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
                to: "server.pem")
            let reason = Self.failure(of: await front.runner.reloader.reload(with: config)) ?? "applied"
            #expect(reason.contains("tls.certificate") && reason.contains(certificates.serverCertificate), "\(reason)")
            #expect(front.metric("brokerfront_reloads_total", ["result": "error"]) == 1)
            let after = try await Self.servedCertificate(port: port)
            #expect(after.contains("serial=05") && after.contains("CN = localhost-renewed"), "\(after)")
        }
    }
}
