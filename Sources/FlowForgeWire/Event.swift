// FlowForge — a generic structured timeline record
// SPDX-License-Identifier: Apache-2.0

/// A structured timeline record: a short kind, the worker generation, a wall-clock time and key/value fields.
///
/// The initializer validates every bound, so any `Event` that exists encodes into one frame unchanged.
public struct Event: Sendable, Equatable, Hashable {
    /// Largest `kind`, in UTF-8 bytes.
    public static let maxKindBytes = 64
    /// Largest number of fields.
    public static let maxFields = 64
    /// Largest encoded `.event` payload: everything must fit in one frame.
    public static let maxEncodedSize = Wire.maxPayloadSize

    /// A short machine-readable name such as "worker.started" (`EventKind`; at most 64 UTF-8 bytes).
    public let kind: String
    /// The worker generation the record refers to (0 if none).
    public let generation: UInt32
    /// Wall-clock time as nanoseconds since the Unix epoch.
    public let wallNanos: Int64
    /// Key/value pairs, in order (at most 64).
    public let fields: [Field]

    /// Creates a record, checking every bound.
    ///
    /// Throws `stringTooLong` for a kind or key over 64 bytes or a value over `Wire.maxStringBytes`,
    /// `invalidValue("fields")` for more than 64 fields, and `oversized(frameSize)` when the whole
    /// record would not fit in one frame. Use `Wire.truncatedUTF8(_:maxBytes:)` to shorten values first.
    public init(kind: String, generation: UInt32, wallNanos: Int64, fields: [Field] = []) throws(WireError) {
        guard kind.utf8.count <= Event.maxKindBytes else { throw .stringTooLong }
        guard fields.count <= Event.maxFields else { throw .invalidValue("fields") }
        var size = 2 + kind.utf8.count + 4 + 8 + 2
        for field in fields {
            let keyBytes = field.key.utf8.count
            let valueBytes = field.value.utf8.count
            guard keyBytes <= Field.maxKeyBytes, valueBytes <= Field.maxValueBytes else { throw .stringTooLong }
            size += 2 + keyBytes + 2 + valueBytes
        }
        guard size <= Event.maxEncodedSize else { throw WireError(.oversized(Wire.headerSize + size)) }
        self.init(unchecked: kind, generation: generation, wallNanos: wallNanos, fields: fields)
    }

    /// For the decoder, which has already enforced every bound.
    init(unchecked kind: String, generation: UInt32, wallNanos: Int64, fields: [Field]) {
        self.kind = kind
        self.generation = generation
        self.wallNanos = wallNanos
        self.fields = fields
    }

    /// The number of payload bytes this record encodes to.
    var encodedSize: Int {
        var size = 2 + kind.utf8.count + 4 + 8 + 2
        for field in fields {
            size += 2 + field.key.utf8.count + 2 + field.value.utf8.count
        }
        return size
    }

    func encode(into writer: inout ByteWriter) {
        writer.writeString(kind, maxBytes: Event.maxKindBytes)
        writer.writeU32(generation)
        writer.writeI64(wallNanos)
        writer.writeU16(UInt16(truncatingIfNeeded: fields.count))
        for field in fields {
            writer.writeString(field.key, maxBytes: Field.maxKeyBytes)
            writer.writeString(field.value, maxBytes: Field.maxValueBytes)
        }
    }

    static func decode(from reader: inout ByteReader) throws(WireError) -> Event {
        let kind = try reader.readString(maxBytes: maxKindBytes)
        let generation = try reader.readU32()
        let wallNanos = try reader.readI64()
        let count = Int(try reader.readU16())
        guard count <= maxFields else { throw .invalidValue("fields") }
        var fields: [Field] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.readString(maxBytes: Field.maxKeyBytes)
            let value = try reader.readString(maxBytes: Field.maxValueBytes)
            fields.append(Field(key: key, value: value))
        }
        return Event(unchecked: kind, generation: generation, wallNanos: wallNanos, fields: fields)
    }
}

/// One key/value pair of an `Event`; bounds are checked when the `Event` is created.
public struct Field: Sendable, Equatable, Hashable {
    /// Largest key, in UTF-8 bytes.
    public static let maxKeyBytes = 64
    /// Largest value, in UTF-8 bytes.
    public static let maxValueBytes = Wire.maxStringBytes

    /// The key (at most 64 UTF-8 bytes).
    public let key: String
    /// The value (at most `Wire.maxStringBytes` UTF-8 bytes).
    public let value: String

    /// Creates a pair.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

extension Event {
    /// `Event.Field` is the top-level `Field`.
    public typealias Field = FlowForgeWire.Field
}
