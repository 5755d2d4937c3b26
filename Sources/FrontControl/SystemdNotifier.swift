import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The systemd readiness protocol (sd_notify(3)) without libsystemd: one datagram to the Unix
/// socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Without the
/// variable (not under `Type=notify`) every call does nothing.
public enum SystemdNotifier {
    /// Sends `state` (e.g. `READY=1`, `STOPPING=1`, `STATUS=...`); returns false when there is no
    /// socket to tell or the datagram could not be sent.
    @discardableResult
    public static func notify(
        _ state: String, socketPath: String? = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"]
    ) -> Bool {
        #if os(Linux)
            guard let socketPath, !socketPath.isEmpty, socketPath.hasPrefix("/") || socketPath.hasPrefix("@")
            else { return false }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var path = Array(socketPath.utf8)
            // The abstract namespace is spelled with a leading NUL byte.
            if path.first == UInt8(ascii: "@") { path[0] = 0 }
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard path.count < capacity else { return false }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.enumerated() { raw[index] = byte }
            }
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
            let message = Array(state.utf8)
            let sent = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    message.withUnsafeBytes {
                        sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                    }
                }
            }
            return sent == message.count
        #else
            return false
        #endif
    }
}
