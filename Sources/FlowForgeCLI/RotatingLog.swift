// FlowForge — an append-only log file rotated at a size: NAME.log, then NAME.log.1 (newest) ... NAME.log.K.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Foundation

/// One program instance's stdout or stderr log, as `flowforge log-writer` keeps it.
///
/// Past `limit` bytes the file is rotated: `.1` becomes `.2` and so on up to `keep` (the oldest is deleted),
/// the live file becomes `.1`, and writing goes on in a new file. A chunk that would cross the limit is cut
/// after its last newline, so the lines of a line-oriented worker stay whole in one file.
struct RotatingLog {
    let path: String
    let limit: Int
    let keep: Int
    private(set) var fd: Int32 = -1
    private(set) var size = 0

    /// Opens (or creates, mode 0600) `path` for appending: an instance started again continues its log.
    init(path: String, limit: Int, keep: Int) throws {
        self.path = path
        self.limit = max(1, limit)
        self.keep = max(0, keep)
        try reopen()
    }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        if size + bytes.count > limit, let newline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            // The lines up to the last newline finish this file; the rest starts the next one.
            write(bytes[..<(newline + 1)])
            rotate()
            write(bytes[(newline + 1)...])
            return
        }
        if size >= limit { rotate() }
        write(bytes)
    }

    /// Renames the live file to `.1` (shifting older ones) and starts a new one. With `keep` 0 the live
    /// file is simply truncated.
    mutating func rotate() {
        if keep == 0 {
            _ = try? sys("ftruncate") { ftruncate(fd, 0) }
            size = 0
            return
        }
        FileIO.unlink("\(path).\(keep)")
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) { _ = Foundation.rename("\(path).\(i)", "\(path).\(i + 1)") }
        }
        _ = Foundation.rename(path, "\(path).1")
        FileIO.close(fd)
        fd = -1
        do { try reopen() } catch { size = 0 } // the next write reports what went wrong
    }

    private mutating func reopen() throws {
        let p = path
        fd = try sys("open \(p)") { open(p, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        size = FileIO.size(fd) ?? 0
    }

    private mutating func write(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        if fd < 0 { try? reopen() }
        guard fd >= 0 else { return }
        bytes.withUnsafeBytes { raw in _ = try? FileIO.writeAll(fd, raw) }
        size += bytes.count
    }
}
