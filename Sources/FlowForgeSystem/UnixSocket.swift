// FlowForge — Unix stream sockets for the per-run control endpoint (0600, same user only).
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// Listening and connecting on AF_UNIX stream sockets.
public enum UnixSocket {
    /// Binds and listens on `path` with mode 0600 (a stale socket file is replaced).
    /// Listens on a new socket file at `path`, mode 0600, handed to `owner` when that is not us.
    public static func listen(path: String, owner: uid_t? = nil) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        unlink(path)
        var addr = try address(path)
        let old = umask(0o177) // the file is created 0600: only our user can connect
        defer { umask(old) }
        do {
            _ = try sys("bind \(path)") {
                withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
        } catch {
            close(fd)
            throw error
        }
        if let owner, owner != geteuid(), lchown(path, owner, gid_t.max) != 0 {
            let e = errno
            close(fd)
            throw SystemError("chown \(path) to uid \(owner)", errno: e)
        }
        _ = try sys("listen") { Glibc.listen(fd, 16) }
        return fd
    }

    /// Connects to `path`; throws when nobody listens (ECONNREFUSED) or the file is missing.
    public static func connect(path: String) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var addr = try address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let e = errno
            close(fd)
            throw SystemError("connect \(path)", errno: e)
        }
        return fd
    }

    /// Accepts one connection (close-on-exec), or the errno it failed with (EINTR retried).
    public static func accept(_ fd: Int32) -> Result<Int32, SystemError> {
        sysResult("accept4") { ffsys_accept_cloexec(fd) }
    }

    /// Whether `fd` is a listening socket (SO_ACCEPTCONN).
    public static func isListening(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        return (try? sys("getsockopt(SO_ACCEPTCONN)") { getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) }) != nil && value != 0
    }

    /// Reads up to the first newline (at most `limit` bytes, or `timeoutMillis` in total).
    public static func readLine(_ fd: Int32, limit: Int = 16 * 1024, timeoutMillis: Int32 = 5000) -> String? {
        var out: [UInt8] = []
        var byte: UInt8 = 0
        while out.count < limit {
            guard let ready = try? Poll.wait(for: fd, .readable, timeoutMillis: timeoutMillis), !ready.isEmpty else { return nil }
            guard case .success(let n) = withUnsafeMutableBytes(of: &byte, { FileIO.read(fd, into: $0) }), n > 0 else { break }
            if byte == UInt8(ascii: "\n") { return String(decoding: out, as: UTF8.self) }
            out.append(byte)
        }
        return out.isEmpty ? nil : String(decoding: out, as: UTF8.self)
    }

    private static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw SystemError("socket path too long: \(path)", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }
}
