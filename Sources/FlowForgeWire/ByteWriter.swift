// FlowForge — big-endian writer that appends wire primitives to a byte array
// SPDX-License-Identifier: Apache-2.0

/// Appends wire primitives to a byte array; over-long strings and arrays are clamped to their bound so the output always decodes.
struct ByteWriter {
    var bytes: [UInt8]

    init(bytes: [UInt8] = []) {
        self.bytes = bytes
    }

    mutating func writeU8(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func writeU16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeU32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeU64(_ value: UInt64) {
        writeU32(UInt32(truncatingIfNeeded: value >> 32))
        writeU32(UInt32(truncatingIfNeeded: value))
    }

    mutating func writeI32(_ value: Int32) {
        writeU32(UInt32(bitPattern: value))
    }

    mutating func writeI64(_ value: Int64) {
        writeU64(UInt64(bitPattern: value))
    }

    mutating func writeBool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// Writes the bit pattern; callers keep non-finite values away from fields declared finite.
    mutating func writeDouble(_ value: Double) {
        writeU64(value.bitPattern)
    }

    /// Writes a u16 length and the UTF-8 bytes, cut at a scalar boundary to at most `maxBytes`.
    mutating func writeString(_ value: String, maxBytes: Int = Wire.maxStringBytes) {
        var value = value
        value.withUTF8 { utf8 in
            let count = UTF8Validation.clampedCount(utf8, maxBytes: min(maxBytes, Int(UInt16.max)))
            writeU16(UInt16(truncatingIfNeeded: count))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[0..<count]))
        }
    }

    /// Writes a u32 length and at most `maxCount` leading bytes of `value`.
    mutating func writeBytes(_ value: [UInt8], maxCount: Int) {
        let count = min(value.count, maxCount)
        writeU32(UInt32(truncatingIfNeeded: count))
        bytes.append(contentsOf: value[0..<count])
    }

    /// Writes a u16 count and at most `maxCount` leading elements of `value`.
    mutating func writeU32Array(_ value: [UInt32], maxCount: Int) {
        let count = min(value.count, maxCount, Int(UInt16.max))
        writeU16(UInt16(truncatingIfNeeded: count))
        for element in value[0..<count] {
            writeU32(element)
        }
    }
}
