// FlowForge — resolving a --listen host for the pre-bound listening socket (getaddrinfo, before the sandbox).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
// getaddrinfo through Foundation's libc, not FlowForgeSystem: the resolver must stay out of the static
// reaper, which links all of FlowForgeSystem.
import Foundation

extension ListeningSocket {
    /// Binds and listens on `host:port`: the first stream address getaddrinfo returns for `host` (a name, an
    /// IPv4 literal or an IPv6 literal without brackets), as SwiftNIO's `bind(host:port:)` picks it.
    ///
    /// - Important: before the sandbox: the API agent's and the dashboard's filters have no resolver's calls.
    /// - Throws: `SystemError` (a name that does not resolve as EADDRNOTAVAIL, with the resolver's message).
    public static func bind(host: String, port: Int) throws -> Int32 {
        guard (0...65535).contains(port) else { throw SystemError("port \(port) out of range", errno: EINVAL) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list, let address = first.pointee.ai_addr else {
            let why = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw SystemError("resolve \(host) (\(why))", errno: EADDRNOTAVAIL)
        }
        defer { freeaddrinfo(list) }
        let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return try bind(address: address, length: first.pointee.ai_addrlen, description: shown)
    }
}
