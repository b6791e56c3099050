// FlowForge — an append-only log file rotated at a size: NAME.log, then NAME.log.1 (newest) ... NAME.log.K.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Foundation

/// One program instance's stdout or stderr log, as `flowforge log-writer` keeps it.
///
/// Past `limit` bytes the file is rotated: `.1` becomes `.2` and so on up to `keep` (the oldest is deleted),
/// the live file becomes `.1`, and writing goes on in a new file. A chunk that would cross the limit is cut
/// after its last newline, so the lines of a line-oriented worker stay whole in one file.
///
/// - Important: every file operation is relative to `directory`, a descriptor of the checked `logs/`
///   directory, and never follows a symlink: under systemd a root log writer works inside a state directory
///   that belongs to the dashboard's user, who must not be able to point root's writes elsewhere.
struct RotatingLog {
    let directory: Int32
    let name: String
    let limit: Int
    let keep: Int
    private(set) var fd: Int32 = -1
    private(set) var size = 0

    /// Opens (or creates, mode 0600) `name` for appending: an instance started again continues its log.
    init(directory: Int32, name: String, limit: Int, keep: Int) throws {
        self.directory = directory
        self.name = name
        self.limit = max(1, limit)
        self.keep = max(0, keep)
        try reopen()
    }

    /// Opens `path` as a log directory: a real directory (not a symlink) of ours, writable by nobody else.
    ///
    /// - Throws: `SystemError` naming what is wrong.
    static func openDirectory(_ path: String) throws -> Int32 {
        let fd = try sys("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o022 == 0 else {
            FileIO.close(fd)
            throw SystemError("\(path) must be a directory of uid \(geteuid()) that nobody else can write", errno: EPERM)
        }
        return fd
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
        _ = unlinkat(directory, "\(name).\(keep)", 0)
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) { _ = renameat(directory, "\(name).\(i)", directory, "\(name).\(i + 1)") }
        }
        _ = renameat(directory, name, directory, "\(name).1")
        FileIO.close(fd)
        fd = -1
        do { try reopen() } catch { size = 0 } // the next write tries again
    }

    private mutating func reopen() throws {
        let (dir, file) = (directory, name)
        fd = try sys("open \(file)") { openat(dir, file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600) }
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
