// FlowForge — whether a listen host is loopback, decided on addresses (127.0.0.0/8, ::1), never on spelling.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Loopback decisions for `--listen`: an address literal is parsed, a name is resolved, and only addresses in
/// 127.0.0.0/8 or `::1` (also as `::ffff:127.x.y.z`) count.
///
/// - Important: a name counts only when every address it resolves to is loopback: `127.evil.example` is a
///   name like any other, and whatever it resolves to decides.
public enum Loopback {
    /// Whether `address` (an IPv4 or IPv6 literal, brackets allowed) is a loopback address; nil when it is no
    /// address literal at all.
    public static func isLoopbackLiteral(_ address: String) -> Bool? {
        var host = address
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return isLoopback(v4) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return isLoopback(v6) }
        return nil
    }

    /// Whether `host` (a literal or a name) is loopback: a literal by its value, a name by every address
    /// `getaddrinfo` returns for it (false when it resolves to nothing).
    public static func isLoopback(host: String) -> Bool {
        if let literal = isLoopbackLiteral(host) { return literal }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        var any = false
        while let n = node {
            guard let sa = n.pointee.ai_addr else { return false }
            switch Int32(n.pointee.ai_family) {
            case AF_INET:
                let ok = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { isLoopback($0.pointee.sin_addr) }
                guard ok else { return false }
            case AF_INET6:
                let ok = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { isLoopback($0.pointee.sin6_addr) }
                guard ok else { return false }
            default:
                return false
            }
            any = true
            node = n.pointee.ai_next
        }
        return any
    }

    static func isLoopback(_ a: in_addr) -> Bool { UInt32(bigEndian: a.s_addr) >> 24 == 127 }

    static func isLoopback(_ a: in6_addr) -> Bool {
        let b = withUnsafeBytes(of: a) { Array($0) }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true } // ::1
        // ::ffff:127.x.y.z, an IPv4 loopback address in IPv6 clothing.
        return b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xFF && b[11] == 0xFF && b[12] == 127
    }
}
