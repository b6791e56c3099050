// FlowForge — what every fuzz target shares: a failed property is a crash libFuzzer keeps, and a reader
// that turns the fuzzer's bytes into structured values.
// SPDX-License-Identifier: Apache-2.0

/// Stops the process (libFuzzer saves the input as `crash-*`) when a property does not hold.
///
/// `precondition` would do the same, but its message is dropped in release builds; this one always prints it.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fuzzFail(message(), file: file, line: line) }
}

/// Stops the process with the property that does not hold (see `fuzzCheck`).
public func fuzzFail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("property violated: \(message)", file: file, line: line)
}

/// Hex of at most `limit` bytes, for failure messages.
public func fuzzHex(_ bytes: some Sequence<UInt8>, limit: Int = 96) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    for (i, byte) in bytes.enumerated() {
        if i == limit { return out + "…" }
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return out
}

/// Takes values off the front of the fuzzer's input; past the end every read yields zero or empty.
public struct FuzzReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ buffer: UnsafeRawBufferPointer) {
        bytes = Array(buffer)
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func u32() -> UInt32 {
        (0..<4).reduce(0) { value, _ in value << 8 | UInt32(byte()) }
    }

    public mutating func i64() -> Int64 {
        Int64(bitPattern: (0..<8).reduce(0) { value, _ in value << 8 | UInt64(byte()) })
    }

    /// A string of up to `maxBytes` bytes (length from one byte), decoded as UTF-8 with repair.
    public mutating func string(maxBytes: Int = 255) -> String {
        let count = min(Int(byte()), maxBytes, bytes.count - min(offset, bytes.count))
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    /// Everything not read yet.
    public mutating func rest() -> ArraySlice<UInt8> {
        defer { offset = bytes.count }
        return bytes[min(offset, bytes.count)...]
    }
}
