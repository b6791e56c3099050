// FlowForge — the single error type thrown by frame decoding and validation
// SPDX-License-Identifier: Apache-2.0

/// Why a buffer is not one valid frame of the expected message family.
public struct WireError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The precise kind of violation.
    public enum Code: Sendable, Equatable, Hashable {
        /// The buffer or a field inside the payload ends before the declared data.
        case truncated
        /// Bytes remain after the frame or after the last payload field.
        case trailingBytes
        /// Bytes 0-1 are not "FF".
        case badMagic
        /// Byte 2 is not `Wire.version`; carries the received version.
        case unsupportedVersion(UInt8)
        /// The declared frame size (header + payload length) exceeds `Wire.maxFrameSize`; carries that size.
        case oversized(Int)
        /// The type code is not defined for the message family being decoded.
        case unknownType(UInt8)
        /// A field holds a value outside its domain (bad enum code, Bool not 0/1, count over its bound, non-finite Double); carries the field name.
        case invalidValue(String)
        /// A string is not well-formed UTF-8 (overlong forms, surrogates, truncated sequences, code points above U+10FFFF).
        case invalidUTF8
        /// A string's declared length exceeds its bound.
        case stringTooLong
    }

    /// The kind of violation.
    public let code: Code

    /// Creates an error with the given code.
    public init(_ code: Code) {
        self.code = code
    }

    /// A short human-readable rendering for logs.
    public var description: String {
        switch code {
        case .truncated: "wire: truncated"
        case .trailingBytes: "wire: trailing bytes"
        case .badMagic: "wire: bad magic"
        case .unsupportedVersion(let v): "wire: unsupported version \(v)"
        case .oversized(let n): "wire: oversized frame (\(n) bytes)"
        case .unknownType(let t): "wire: unknown type code \(t)"
        case .invalidValue(let field): "wire: invalid value for \(field)"
        case .invalidUTF8: "wire: invalid UTF-8"
        case .stringTooLong: "wire: string too long"
        }
    }

    static let truncated = WireError(.truncated)
    static let trailingBytes = WireError(.trailingBytes)
    static let invalidUTF8 = WireError(.invalidUTF8)
    static let stringTooLong = WireError(.stringTooLong)

    static func invalidValue(_ field: String) -> WireError {
        WireError(.invalidValue(field))
    }
}
