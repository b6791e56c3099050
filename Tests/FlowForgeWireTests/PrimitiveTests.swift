// FlowForge — the payload primitives read and written in isolation
// SPDX-License-Identifier: Apache-2.0

@testable import FlowForgeWire
import Testing

@Suite("Primitives")
struct PrimitiveTests {
    private func read<T>(_ bytes: [UInt8], _ body: (inout ByteReader) throws(WireError) -> T) -> Result<T, WireError> {
        bytes.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            return Result { () throws(WireError) -> T in
                let value = try body(&reader)
                try reader.expectEnd()
                return value
            }
        }
    }

    @Test("integers are big-endian")
    func integers() {
        var writer = ByteWriter()
        writer.writeU8(0xAB)
        writer.writeU16(0x0102)
        writer.writeU32(0x0304_0506)
        writer.writeU64(0x0708_090A_0B0C_0D0E)
        writer.writeI32(-2)
        writer.writeI64(-3)
        #expect(writer.bytes == [0xAB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFD])
        let values = read(writer.bytes) { r throws(WireError) in
            [UInt64(try r.readU8()), UInt64(try r.readU16()), UInt64(try r.readU32()), try r.readU64(),
             UInt64(bitPattern: Int64(try r.readI32())), UInt64(bitPattern: try r.readI64())]
        }
        #expect(values == .success([0xAB, 0x0102, 0x0304_0506, 0x0708_090A_0B0C_0D0E,
                                    UInt64(bitPattern: -2), UInt64(bitPattern: -3)]))
        #expect(read([1, 2, 3]) { r throws(WireError) in try r.readU32() } == .failure(WireError(.truncated)))
        #expect(read([1, 2, 3]) { r throws(WireError) in try r.readU16() } == .failure(WireError(.trailingBytes)))
    }

    @Test("Bool is exactly 0 or 1")
    func bools() {
        #expect(read([0]) { r throws(WireError) in try r.readBool(field: "b") } == .success(false))
        #expect(read([1]) { r throws(WireError) in try r.readBool(field: "b") } == .success(true))
        #expect(read([2]) { r throws(WireError) in try r.readBool(field: "b") } == .failure(WireError(.invalidValue("b"))))
    }

    @Test("Double is its bit pattern; finite fields reject NaN and infinities")
    func doubles() {
        for value in [0.0, -0.0, 1.5, -Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude] {
            var writer = ByteWriter()
            writer.writeDouble(value)
            let back = read(writer.bytes) { r throws(WireError) in try r.readDouble(field: "d", finite: true) }
            #expect(back.map(\.bitPattern) == .success(value.bitPattern))
        }
        for value in [Double.nan, .infinity, -.infinity, .signalingNaN] {
            var writer = ByteWriter()
            writer.writeDouble(value)
            #expect(read(writer.bytes) { r throws(WireError) in try r.readDouble(field: "d", finite: true) }
                    == .failure(WireError(.invalidValue("d"))))
            let lenient = read(writer.bytes) { r throws(WireError) in try r.readDouble(field: "d", finite: false) }
            #expect(lenient.map(\.bitPattern) == .success(value.bitPattern))
        }
    }

    @Test("u32 arrays and raw bytes carry their counts")
    func arrays() {
        var writer = ByteWriter()
        writer.writeU32Array([1, 0xFFFF_FFFF], maxCount: 10)
        writer.writeBytes([9, 8, 7], maxCount: 10)
        #expect(writer.bytes == [0, 2, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 3, 9, 8, 7])
        let back = read(writer.bytes) { r throws(WireError) in
            (try r.readU32Array(maxCount: 2, field: "a"), try r.readBytes())
        }
        #expect(back.map { $0.0 } == .success([1, 0xFFFF_FFFF]))
        #expect(back.map { $0.1 } == .success([9, 8, 7]))
        #expect(read(writer.bytes) { r throws(WireError) in try r.readU32Array(maxCount: 1, field: "a") }
                == .failure(WireError(.invalidValue("a"))))
    }
}
