#if canImport(Glibc)
    import Glibc
#endif

/// What `stat(2)` says of a file, following symlinks: a new file behind the same name (a symlink
/// swap) or a write in place both change it.
struct FileStamp: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int64
    var changed: Int64

    /// Each path's stamp; nil for a file that cannot be stat'ed now (missing, or mid-swap).
    static func read(_ paths: [String]) -> [String: FileStamp?] {
        var stamps: [String: FileStamp?] = [:]
        for path in paths { stamps[path] = stamp(path) }
        return stamps
    }

    static func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            changed: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }
}
