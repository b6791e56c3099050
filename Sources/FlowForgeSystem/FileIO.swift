// FlowForge — small file and descriptor helpers without Foundation.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// Thin, EINTR-safe wrappers over descriptor calls.
public enum FileIO {
    /// Closes `fd`, ignoring errors (a close that fails has still released the descriptor on Linux).
    public static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Writes all of `bytes`, blocking as needed.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try sys("write") { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            offset += n
        }
    }

    public static func writeAll(_ fd: Int32, _ string: String) throws {
        let bytes = Array(string.utf8)
        try bytes.withUnsafeBytes { try writeAll(fd, $0) }
    }

    /// Reads a whole (small, /proc or /sys) file. Returns nil when it cannot be opened.
    public static func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        guard let fd = try? open(path, .readOnly) else { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit, positional: false)
    }

    /// Reads from a pre-opened descriptor from offset 0 with pread (works under a filter without openat).
    public static func preadAll(_ fd: Int32, limit: Int = 1 << 20) -> [UInt8]? {
        readAll(fd, limit: limit, positional: true)
    }

    /// Reads a descriptor (a pipe) to its end, at most `limit` bytes.
    public static func readAll(fd: Int32, limit: Int = 1 << 20) -> [UInt8]? {
        readAll(fd, limit: limit, positional: false)
    }

    private static func readAll(_ fd: Int32, limit: Int, positional: Bool) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            let offset = result.count
            let read = chunk.withUnsafeMutableBytes { buf in
                positional ? pread(fd, into: buf, at: offset) : FileIO.read(fd, into: buf)
            }
            guard case .success(let n) = read else { return nil }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// One read(2) into `buffer`: the bytes read (0 at EOF), or the errno (EAGAIN on an empty non-blocking
    /// descriptor).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, SystemError> {
        sysResult("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// One pread(2) at `offset` into `buffer` (needs no openat: works on an inherited descriptor under a filter).
    public static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Result<Int, SystemError> {
        sysResult("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// One write(2) of `bytes`: the bytes written, or the errno (EAGAIN on a full non-blocking descriptor).
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemError> {
        sysResult("write") { Glibc.write(fd, bytes.baseAddress, bytes.count) }
    }

    /// How `open(_:_:)` opens a file.
    public enum OpenMode: Sendable {
        case readOnly, writeOnly, readWrite
        var flags: Int32 {
            switch self {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        }
    }

    /// Opens an existing file, close-on-exec.
    ///
    /// - Throws: `SystemError` naming the path.
    public static func open(_ path: String, _ mode: OpenMode) throws(SystemError) -> Int32 {
        try sys("open \(path)") { Glibc.open(path, mode.flags | O_CLOEXEC) }
    }

    /// Opens `path` for appending, creating it with `permissions` if missing, and *without* close-on-exec: a
    /// descriptor for a program this process execs into (the CLI's `--events` file for the reaper).
    ///
    /// - Throws: `SystemError` ("open").
    public static func openInheritedForAppend(_ path: String, creatingWith permissions: UInt32) throws(SystemError) -> Int32 {
        try sys("open") { Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND, mode_t(permissions)) }
    }

    /// Clears close-on-exec on `fd`, so a program this process execs into inherits it.
    ///
    /// - Throws: `SystemError`.
    public static func makeInheritable(_ fd: Int32) throws(SystemError) {
        _ = try sys("fcntl(F_SETFD)") { fcntl(fd, F_SETFD, 0) }
    }

    /// Whether `path` can be executed by us (access X_OK); with `regularFile`, also whether it is a regular
    /// file (stat follows symlinks), as execvp's PATH search wants.
    public static func isExecutable(_ path: String, regularFile: Bool = false) -> Bool {
        if regularFile {
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        }
        return access(path, X_OK) == 0
    }

    /// Whether `path` is a directory (stat follows symlinks).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Removes `path` (a file or socket, not a directory); false when it could not (ENOENT included).
    @discardableResult
    public static func unlink(_ path: String) -> Bool {
        (try? sys("unlink") { Glibc.unlink(path) }) != nil
    }

    /// The size of the file behind `fd` (fstat), nil when it cannot be asked.
    public static func size(_ fd: Int32) -> Int? {
        var st = stat()
        guard (try? sys("fstat") { fstat(fd, &st) }) != nil else { return nil }
        return Int(st.st_size)
    }

    public static func readText(_ path: String) -> String? {
        readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Creates a pipe whose both ends are close-on-exec.
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try sys("pipe2") { ffsys_pipe_cloexec(&fds) }
        return (fds[0], fds[1])
    }

    /// Creates a close-on-exec AF_UNIX SOCK_SEQPACKET socketpair.
    public static func seqpacketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try sys("socketpair") { ffsys_socketpair_seqpacket(&fds) }
        return (fds[0], fds[1])
    }
}

extension FileIO {
    /// One line on stderr (best effort).
    public static func warn(_ line: String) {
        try? writeAll(2, line + "\n")
    }
}
