#if canImport(Glibc)
    import Glibc
#endif

/// Unbuffered writes to standard output and error (write(2)), so lines reach pipes at once and no
/// C `FILE` global is touched. Any thread; a line written in one call is not interleaved.
public enum BenchOutput {
    /// Writes `text` to standard error as is.
    public static func standardError(_ text: String) { write(text, to: STDERR_FILENO) }

    /// Writes `text` to standard output as is.
    public static func standardOutput(_ text: String) { write(text, to: STDOUT_FILENO) }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
