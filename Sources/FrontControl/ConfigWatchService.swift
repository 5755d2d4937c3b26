import FrontConfig
import FrontProxy
import Logging
import ServiceLifecycle

/// `watch: true`: reloads when the configuration file, a TLS file or the admin token file it names changes.
///
/// Every path is stat'ed again on each poll, following symlinks, so the atomic swaps a Kubernetes
/// ConfigMap or Secret volume and cert-manager make (a new directory behind a `..data` symlink) are
/// seen as well as writes in place. A change is applied once the files have stopped changing for one
/// ``settle`` period (an editor or a copy writing in steps is not caught halfway), through the same
/// validation as SIGHUP: an invalid file is logged and counted in `brokerfront_reloads_total{result="error"}`
/// and changes nothing, and it is not tried again until a watched file changes once more.
public struct ConfigWatchService: Service {
    let path: String
    let reloader: ConfigReloader
    let proxy: FrontProxy
    let logger: Logger
    /// How often the files are stat'ed.
    let interval: Duration
    /// How long the files must stay unchanged before a reload.
    let settle: Duration

    public init(
        path: String, reloader: ConfigReloader, proxy: FrontProxy, logger: Logger,
        interval: Duration = .seconds(1), settle: Duration = .milliseconds(500)
    ) {
        self.path = path
        self.reloader = reloader
        self.proxy = proxy
        self.logger = logger
        self.interval = interval
        self.settle = settle
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = FileStamp.read(self.files())
            while !Task.isCancelled {
                guard (try? await Task.sleep(for: self.interval)) != nil else { return }
                let now = FileStamp.read(self.files())
                guard self.proxy.configuration.watch, now != seen else {
                    seen = now
                    continue
                }
                guard let settled = await self.settled(from: now) else { return }
                let changed = settled.keys.filter { settled[$0] != seen[$0] }.sorted()
                self.logger.notice(
                    "watched file changed, reloading", metadata: ["files": .string(changed.joined(separator: ","))])
                _ = await self.reloader.reload()
                // The files of the configuration now in force (the new one, or the old one after a refusal).
                seen = FileStamp.read(self.files())
                seen.merge(settled) { _, changedStamp in changedStamp }
            }
        }
    }

    /// Waits until two reads ``settle`` apart agree (at most 20 periods); nil when cancelled.
    private func settled(from first: [String: FileStamp?]) async -> [String: FileStamp?]? {
        var last = first
        for _ in 0..<20 {
            guard (try? await Task.sleep(for: settle)) != nil else { return nil }
            let again = FileStamp.read(files())
            if again == last { break }
            last = again
        }
        return last
    }

    /// The configuration file, every TLS file and the admin token file the configuration in force names.
    func files() -> [String] {
        var files = [path]
        if case .file(let token)? = proxy.configuration.admin?.tokenSource { files.append(token) }
        for listener in proxy.configuration.listeners {
            guard let tls = listener.tls else { continue }
            files += [tls.certificate, tls.privateKey]
            if let ca = tls.clientCA { files.append(ca) }
        }
        return files
    }
}
