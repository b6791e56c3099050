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
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
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
            let n = chunk.withUnsafeMutableBytes { buf -> Int in
                while true {
                    let r = positional ? pread(fd, buf.baseAddress, buf.count, off_t(offset)) : read(fd, buf.baseAddress, buf.count)
                    if r < 0 && errno == EINTR { continue }
                    return r
                }
            }
            if n < 0 { return nil }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
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
