// FlowForge — the Host names the API answers to, against DNS rebinding.
// SPDX-License-Identifier: Apache-2.0

/// The names a request's `Host` may carry: loopback names always, the `--listen` host, and what the operator
/// adds with `--allowed-host`. Ports are ignored; names compare case-insensitively, without a trailing dot.
///
/// DNS rebinding: a web page at `http://attacker.example:8080` makes its name resolve to 127.0.0.1, and the
/// browser then lets it read the API's answers as same-origin. Its requests still say
/// `Host: attacker.example:8080`, which is not on this list, so they get a 421 and no data.
public struct HostAllowlist: Sendable {
    public static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1"]
    public let names: Set<String>

    /// - Parameters:
    ///   - listenHost: the host part of `--listen` (a wildcard such as 0.0.0.0 or :: adds nothing).
    ///   - extra: `--allowed-host` names.
    public init(listenHost: String, extra: [String] = []) {
        var names = HostAllowlist.loopbackNames
        if let listen = HostAllowlist.normalized(listenHost), listen != "0.0.0.0", listen != "::" { names.insert(listen) }
        for name in extra { if let n = HostAllowlist.normalized(name) { names.insert(n) } }
        self.names = names
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]`, `[v6]:port`) is allowed.
    public func allows(_ host: String) -> Bool {
        guard let name = HostAllowlist.hostPart(host) else { return false }
        return names.contains(name)
    }

    /// The name of a `Host` value without its port, lowercased, without brackets or a trailing dot; nil when the
    /// value is not a plausible authority (empty, userinfo, a path, an empty or non-numeric port).
    static func hostPart(_ value: String) -> String? {
        var s = Substring(value)
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let rest = s[s.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && isPort(rest.dropFirst())) else { return nil }
            s = s[s.index(after: s.startIndex)..<close]
            return normalized(String(s))
        }
        if let colon = s.lastIndex(of: ":") {
            guard isPort(s[s.index(after: colon)...]) else { return nil }
            s = s[..<colon]
        }
        return normalized(String(s))
    }

    static func isPort(_ s: Substring) -> Bool { !s.isEmpty && s.count <= 5 && s.allSatisfy(\.isASCIIDigit) }

    /// A configured name in the form `allows` compares: lowercased, brackets and one trailing dot removed; nil
    /// when it holds characters no host name or address has.
    public static func normalized(_ name: String) -> String? {
        var n = name.lowercased()
        if n.hasPrefix("[") && n.hasSuffix("]") { n = String(n.dropFirst().dropLast()) }
        if n.hasSuffix(".") { n.removeLast() }
        guard !n.isEmpty, n.utf8.count <= 253,
              n.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-.:_%".unicodeScalars.contains($0)) })
        else { return nil }
        return n
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
