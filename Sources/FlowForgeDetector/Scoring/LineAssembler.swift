// FlowForge — reassembles lines from raw stdout/stderr byte chunks.
// SPDX-License-Identifier: Apache-2.0

/// Which of the worker's output streams a chunk or line came from.
public enum OutputSource: UInt8, Sendable, Hashable, CaseIterable {
    case stdout = 1
    case stderr = 2
}

/// One complete line recovered from a worker's output.
public struct AssembledLine: Sendable, Equatable {
    /// The stream the line was written to.
    public var source: OutputSource
    /// The line without its terminator (`\n` or `\r\n`), decoded as UTF-8 with U+FFFD for invalid bytes.
    public var text: String
    /// True when the line was cut because it exceeded the assembler's cap, or flushed unterminated.
    public var truncated: Bool

    /// A line from `source`.
    public init(source: OutputSource, text: String, truncated: Bool = false) {
        self.source = source
        self.text = text
        self.truncated = truncated
    }
}

/// Splits raw output chunks into lines, independently per stream.
///
/// - Lines end at `\n`; a `\r` immediately before it is dropped (also when the two bytes arrive in
///   different chunks).
/// - A partial line is buffered across chunks, but never beyond `maxLineBytes`: once a partial line
///   reaches the cap, its first `maxLineBytes` bytes (backed up to a UTF-8 boundary when possible)
///   are emitted as a `truncated` line and assembly continues with the rest.
/// - Bytes are decoded lossily, so invalid UTF-8 never fails; a multi-byte character split across
///   chunks is decoded whole because decoding happens only when a line is complete.
public struct LineAssembler: Sendable {
    /// Default cap on one line, in bytes.
    public static let defaultMaxLineBytes = 4096

    /// Maximum bytes buffered for one partial line (at least 8).
    public let maxLineBytes: Int
    private var partial: [OutputSource: [UInt8]] = [:]

    /// An assembler with empty buffers.
    public init(maxLineBytes: Int = LineAssembler.defaultMaxLineBytes) {
        self.maxLineBytes = max(8, maxLineBytes)
    }

    /// Bytes currently held for an unterminated line of `source`.
    public func pendingByteCount(_ source: OutputSource) -> Int {
        partial[source]?.count ?? 0
    }

    /// Feeds one chunk of `source`'s output and returns the lines it completed, in order.
    public mutating func append<Bytes: Collection<UInt8>>(_ chunk: Bytes, from source: OutputSource) -> [AssembledLine] {
        var buffer = partial[source] ?? []
        partial[source] = nil
        var lines: [AssembledLine] = []
        buffer.reserveCapacity(min(maxLineBytes, buffer.count + chunk.count))
        for b in chunk {
            if b == 0x0A {
                if buffer.last == 0x0D { buffer.removeLast() }
                lines.append(AssembledLine(source: source, text: String(decoding: buffer, as: UTF8.self)))
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            buffer.append(b)
            // Keep one spare byte so a trailing `\r` can still meet its `\n`.
            if buffer.count > maxLineBytes {
                lines.append(cut(&buffer, source: source))
            }
        }
        partial[source] = buffer.isEmpty ? nil : buffer
        return lines
    }

    /// Emits every buffered partial line (stdout first) as `truncated` lines, e.g. when the worker exits.
    public mutating func flush() -> [AssembledLine] {
        var lines: [AssembledLine] = []
        for source in OutputSource.allCases {
            guard var buffer = partial[source], !buffer.isEmpty else { continue }
            if buffer.last == 0x0D { buffer.removeLast() }
            lines.append(AssembledLine(source: source, text: String(decoding: buffer, as: UTF8.self), truncated: true))
        }
        partial = [:]
        return lines
    }

    /// Discards all buffered bytes, e.g. when a new worker generation starts.
    public mutating func reset() {
        partial = [:]
    }

    /// Removes and returns the first `maxLineBytes` bytes of `buffer` as a truncated line, cutting
    /// before a split UTF-8 sequence when one straddles the cap.
    private func cut(_ buffer: inout [UInt8], source: OutputSource) -> AssembledLine {
        var end = maxLineBytes
        var back = 0
        while back < 3, end > 1, buffer[end] & 0xC0 == 0x80 {
            end -= 1
            back += 1
        }
        if buffer[end] & 0xC0 == 0x80 { end = maxLineBytes }
        let line = AssembledLine(source: source, text: String(decoding: buffer[0..<end], as: UTF8.self), truncated: true)
        buffer.removeSubrange(0..<end)
        return line
    }
}
