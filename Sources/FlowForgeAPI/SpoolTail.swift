// FlowForge — a run's history for a (re)started API agent: the spool's newest part, line by line.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem

/// Reads the complete lines of an inherited spool descriptor without holding the spool in memory: only
/// its last `window` bytes (the agent keeps at most `RunState.capacity` events anyway, and a long run's
/// spool can be far larger), in chunks, calling `line` for each. A partial first line (the window starts
/// inside it) and a partial last line (the reaper is still writing it) are skipped. Closes `fd`.
public enum SpoolTail {
    /// 64 MiB: well over 50 000 events of a few hundred bytes each.
    public static let window = 64 << 20
    static let chunk = 1 << 16
    /// A longer line is no event FlowForge writes (a sample is at most a few KiB): skipped.
    static let maxLine = 1 << 20

    /// Returns the number of lines handed to `line`.
    @discardableResult
    public static func read(fd: Int32, window: Int = SpoolTail.window, line: (Substring) -> Void) -> Int {
        guard fd >= 0 else { return 0 }
        defer { FileIO.close(fd) }
        guard let size = FileIO.size(fd) else { return 0 }
        var offset = max(0, size - window)
        var skipFirst = offset > 0
        var pending: [UInt8] = []
        var tooLong = false
        var buffer = [UInt8](repeating: 0, count: chunk)
        var count = 0
        while offset < size {
            let result = buffer.withUnsafeMutableBytes {
                FileIO.pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(size - offset)), at: offset)
            }
            guard case .success(let n) = result, n > 0 else { break }
            offset += n
            var start = 0
            for i in 0..<n where buffer[i] == UInt8(ascii: "\n") {
                if skipFirst || tooLong {
                    skipFirst = false
                    tooLong = false
                } else if pending.isEmpty {
                    count += 1
                    line(Substring(decoding: buffer[start..<i], as: UTF8.self))
                } else if pending.count + (i - start) <= maxLine {
                    pending += buffer[start..<i]
                    count += 1
                    line(Substring(decoding: pending, as: UTF8.self))
                }
                pending.removeAll(keepingCapacity: true)
                start = i + 1
            }
            if start < n && !tooLong {
                if pending.count + (n - start) > maxLine {
                    tooLong = true
                    pending.removeAll()
                } else {
                    pending += buffer[start..<n]
                }
            }
        }
        return count
    }
}
