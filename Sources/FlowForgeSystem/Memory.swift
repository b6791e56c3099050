// FlowForge — libc's vectorised byte search, for the reaper's hot output path.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Byte-level helpers that libc does faster than a Swift loop.
public enum Memory {
    /// The offset of the first `byte` in `buffer` (memchr), nil when there is none.
    public static func firstIndex(of byte: UInt8, in buffer: UnsafeRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress, let hit = memchr(base, Int32(byte), buffer.count) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}
