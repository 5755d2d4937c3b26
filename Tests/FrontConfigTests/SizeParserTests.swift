import Testing

@testable import FrontConfig

@Suite struct SizeParserTests {
    @Test(arguments: [
        ("65536", 65_536),
        ("0", 0),
        ("64KiB", 65_536),
        ("1MiB", 1_048_576),
        ("1GiB", 1_073_741_824),
        ("16k", 16_384),
        ("16K", 16_384),
        ("2m", 2_097_152),
        ("64KB", 64_000),
        ("1MB", 1_000_000),
        ("1GB", 1_000_000_000),
        ("512B", 512),
        ("64 KiB", 65_536),
        ("64kib", 65_536),
    ])
    func parsesValid(text: String, bytes: Int) throws {
        #expect(try SizeParser.parse(text) == bytes)
    }

    @Test(arguments: [
        ("-1", "`-1`: sizes cannot be negative"),
        ("1.5MiB", "`1.5MiB`: sizes are whole numbers; write e.g. 1536KiB instead of 1.5MiB"),
        ("64XB", "`64XB`: unknown size unit `XB`; use bytes, KiB, MiB, GiB (1024-based) or KB, MB, GB"),
        ("KiB", "`KiB` is not a size; write e.g. 65536 or 64KiB"),
        ("", "empty size; write e.g. 65536 or 64KiB"),
        ("99999999999999999999", "`99999999999999999999` is too large"),
        ("9999999999999GiB", "`9999999999999GiB` is too large"),
    ])
    func refusesInvalid(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try SizeParser.parse(text) }
    }

    @Test func formats() {
        #expect(SizeParser.format(65_536) == "64KiB")
        #expect(SizeParser.format(16 << 20) == "16MiB")
        #expect(SizeParser.format(1 << 30) == "1GiB")
        #expect(SizeParser.format(1_000) == "1000")
        #expect(SizeParser.format(0) == "0")
    }
}
