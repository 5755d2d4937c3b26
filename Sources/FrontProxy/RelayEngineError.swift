#if canImport(Glibc)
    import Glibc
#endif

/// A relay thread could not be set up.
struct RelayEngineError: Error, CustomStringConvertible {
    var call: String
    var errno: CInt
    var description: String { "\(call): \(String(cString: strerror(errno)))" }
}
