extension [UInt8] {
    /// Appends a Two Byte Integer, big-endian (MQTT 3.1.1 §1.5.2, MQTT 5.0 §1.5.2).
    mutating func appendMQTTUInt16(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    /// Appends Binary Data: a Two Byte length then the bytes (MQTT 5.0 §1.5.6).
    ///
    /// - Precondition: at most 65,535 bytes. Encoders build packets from values the program chose; config
    ///   validation bounds the ones that come from configuration.
    mutating func appendMQTTBinary(_ bytes: some Collection<UInt8>, field: String) {
        precondition(
            bytes.count <= 0xFFFF,
            "MQTT \(field) is \(bytes.count) bytes; a length-prefixed field holds at most 65,535 (MQTT 5.0 §1.5.6)")
        appendMQTTUInt16(UInt16(bytes.count))
        append(contentsOf: bytes)
    }

    /// Appends a UTF-8 Encoded String (MQTT 3.1.1 §1.5.3, MQTT 5.0 §1.5.4); same precondition as
    /// ``appendMQTTBinary(_:field:)``.
    mutating func appendMQTTString(_ string: String, field: String) {
        appendMQTTBinary(string.utf8, field: field)
    }
}
