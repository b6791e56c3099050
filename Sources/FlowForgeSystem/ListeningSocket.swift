// FlowForge — the HTTP listening socket, bound before the sandbox so that the server's filter needs no
// socket, bind or listen.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listening socket made before the seccomp filter, and the accept calls made on it afterwards.
///
/// - Important: `bind` creates the socket (and `bind(host:port:)` resolves names): call it before the sandbox. `accept(_:)` and `stopAccepting(_:)` use only calls the API agent's and the
///   dashboard's filters allow (poll, accept4, shutdown).
public enum ListeningSocket {
    /// Binds and listens on `address` (IPv4 or IPv6) as SwiftNIO's `ServerBootstrap` did: SO_REUSEADDR,
    /// non-blocking and close-on-exec, backlog 256 (Hummingbird's default). `bind(host:port:)` (FlowForgeAPI)
    /// resolves the name first: resolving lives there, so the static reaper links no resolver.
    ///
    /// A port below `net.ipv4.ip_unprivileged_port_start` is refused (EACCES) even when the caller could bind
    /// it: the server behind the socket runs unprivileged, and binding it was never possible after the drop.
    /// - Throws: `SystemError`.
    public static func bind(address: UnsafePointer<sockaddr>, length: socklen_t, description: String,
                            backlog: Int32 = 256) throws -> Int32 {
        let family = Int32(address.pointee.sa_family)
        let port: Int
        switch family {
        case AF_INET: port = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        case AF_INET6: port = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
        default: throw SystemError("bind \(description) (not an IPv4 or IPv6 address)", errno: EAFNOSUPPORT)
        }
        if port != 0 && port < unprivilegedPortStart() {
            throw SystemError("bind \(description) (below net.ipv4.ip_unprivileged_port_start)", errno: EACCES)
        }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try sys("socket") { socket(family, type, 0) }
        do {
            var one: Int32 = 1
            _ = try sys("setsockopt SO_REUSEADDR") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            _ = try sys("bind \(description)") { Glibc.bind(fd, address, length) }
            _ = try sys("listen") { Glibc.listen(fd, backlog) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Waits for one connection and accepts it (non-blocking, close-on-exec). Returns nil once the socket was
    /// shut down (`stopAccepting`) or fails for good; transient failures are retried, and descriptor or memory
    /// exhaustion is retried after 100 ms rather than in a busy loop.
    public static func accept(_ fd: Int32) -> Int32? {
        while true {
            guard (try? Poll.wait(for: fd, .readable, timeoutMillis: -1)) != nil else { return nil }
            let accepted = sysResult("accept4") { ffsys_accept_nonblock_cloexec(fd) }
            guard case .failure(let error) = accepted else { return try? accepted.get() }
            switch error.errno {
            case EAGAIN, ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENONET, EHOSTDOWN, EHOSTUNREACH, ENETUNREACH:
                continue // the connection went away before we took it, or a firewall refused it
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(100_000)
            default:
                return nil // EINVAL after shutdown(2), EBADF
            }
        }
    }

    /// Makes a pending or future `accept(_:)` on `fd` return nil (shutdown(2) of a listening socket wakes its
    /// pollers and fails accept with EINVAL); connections already accepted are not affected.
    public static func stopAccepting(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The lowest port an unprivileged process may bind (1024 when the sysctl cannot be read).
    static func unprivilegedPortStart() -> Int {
        guard let text = FileIO.readText("/proc/sys/net/ipv4/ip_unprivileged_port_start"),
              let value = Int(text.filter { !$0.isWhitespace }) else { return 1024 }
        return value
    }
}
