// FlowForge — strict UTF-8 validation and boundary-safe truncation
// SPDX-License-Identifier: Apache-2.0

/// Strict UTF-8 checks (Unicode 15, table 3-7): no repair, no overlong forms, no surrogates.
enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var i = 0
        while i < n {
            // ASCII fast path, eight bytes at a time.
            if n - i >= 8 {
                let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
            } else if b0 < 0xC2 {
                // Stray continuation byte or overlong two-byte lead (C0, C1).
                return false
            } else if b0 < 0xE0 {
                guard n - i >= 2, isContinuation(bytes[i + 1]) else { return false }
                i += 2
            } else if b0 < 0xF0 {
                guard n - i >= 3 else { return false }
                let b1 = bytes[i + 1]
                let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80  // E0: overlong below A0
                let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF  // ED: surrogates above 9F
                guard b1 >= low, b1 <= high, isContinuation(bytes[i + 2]) else { return false }
                i += 3
            } else if b0 < 0xF5 {
                guard n - i >= 4 else { return false }
                let b1 = bytes[i + 1]
                let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80  // F0: overlong below 90
                let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF  // F4: above U+10FFFF past 8F
                guard b1 >= low, b1 <= high,
                    isContinuation(bytes[i + 2]), isContinuation(bytes[i + 3])
                else { return false }
                i += 4
            } else {
                return false
            }
        }
        return true
    }

    /// The longest prefix of the well-formed UTF-8 `bytes` that is at most `maxBytes` long and ends on a scalar boundary.
    static func clampedCount(_ bytes: UnsafeBufferPointer<UInt8>, maxBytes: Int) -> Int {
        guard bytes.count > maxBytes else { return bytes.count }
        var n = max(maxBytes, 0)
        // bytes[n] is the first byte cut off; step back while it continues a scalar.
        while n > 0, isContinuation(bytes[n]) {
            n -= 1
        }
        return n
    }

    @inline(__always)
    private static func isContinuation(_ b: UInt8) -> Bool {
        b & 0xC0 == 0x80
    }
}

extension Wire {
    /// Returns `string` cut to at most `maxBytes` UTF-8 bytes at a Unicode scalar boundary (the same rule `encode()` applies to over-long strings).
    public static func truncatedUTF8(_ string: String, maxBytes: Int) -> String {
        guard string.utf8.count > maxBytes else { return string }
        var copy = string
        return copy.withUTF8 { buf in
            let n = UTF8Validation.clampedCount(buf, maxBytes: maxBytes)
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }
}
