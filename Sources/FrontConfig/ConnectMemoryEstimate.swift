/// What the connections of one `mqtt` listener can cost at worst while their CONNECT is still
/// arriving, as `brokerfront check` reports it: the listener's connection cap (its own, else the
/// process's) times a per-connection overhead, plus the CONNECT bytes they may hold together
/// (`limits.max_pending_connect_bytes`, or less when every connection's largest CONNECT is less).
/// Pure; any thread.
public struct ConnectMemoryEstimate: Sendable, Equatable {
    /// The listener's index and name, for the report line.
    public var index: Int
    public var listener: String
    /// Connections the listener may hold at once.
    public var connections: Int
    /// Bytes of unfinished CONNECTs those connections may hold together.
    public var connectBytes: Int
    /// What they could hold without the budget: connections × `max_connect_size` (saturating).
    public var unboundedConnectBytes: Int
    /// Bytes of socket buffers and per-connection objects for that many open connections.
    public var overheadBytes: Int

    /// An estimate of one open connection's own memory before its CONNECT is whole: the front's
    /// objects and receive buffer (about 8 KiB) and the kernel's socket (about 4 KiB).
    public static let overheadPerConnection = 12 << 10

    /// The worst case in bytes.
    public var totalBytes: Int {
        let (sum, overflow) = connectBytes.addingReportingOverflow(overheadBytes)
        return overflow ? .max : sum
    }

    /// One estimate per `mqtt` listener of `configuration`, in file order.
    public static func of(_ configuration: FrontConfiguration) -> [ConnectMemoryEstimate] {
        configuration.listeners.enumerated().compactMap { index, listener in
            guard listener.protocol == .mqtt else { return nil }
            let global = configuration.maxConnections
            let connections = listener.maxConnections > 0 ? min(listener.maxConnections, global) : global
            let (unbounded, overflow) = connections.multipliedReportingOverflow(by: listener.maxConnectSize)
            let (overhead, overflow2) = connections.multipliedReportingOverflow(by: overheadPerConnection)
            let unboundedBytes = overflow ? Int.max : unbounded
            return ConnectMemoryEstimate(
                index: index, listener: listener.name, connections: connections,
                connectBytes: min(listener.limits.maxPendingConnectBytes, unboundedBytes),
                unboundedConnectBytes: unboundedBytes, overheadBytes: overflow2 ? .max : overhead)
        }
    }

    /// The `check` line: `listeners[0] (mqtt): before their CONNECT is whole, 100000 connections cost at most …`.
    public var line: String {
        "listeners[\(index)] (\(listener)): before their CONNECT is whole, \(connections) connections cost at most "
            + "\(Self.format(totalBytes)): \(Self.format(connectBytes)) of CONNECT bytes (max_pending_connect_bytes; "
            + "\(Self.format(unboundedConnectBytes)) without it) + about \(Self.format(overheadBytes)) for the "
            + "connections themselves (~\(Self.format(Self.overheadPerConnection)) each)"
    }

    /// `64 MiB`, `6.1 GiB`, `512 B`: a size to read at a glance.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 || value >= 100 || value == value.rounded() { return "\(Int(value.rounded())) \(units[unit])" }
        return "\((value * 10).rounded() / 10) \(units[unit])"
    }
}
