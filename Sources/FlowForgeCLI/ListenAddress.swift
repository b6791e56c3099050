// FlowForge — validating a --listen address: loopback unless the operator explicitly allows more.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeAPI
import FlowForgeSystem

enum ListenAddress {
    /// Checks `HOST:PORT`; a non-loopback host needs `allowRemote` and gets a warning. Loopback is decided on
    /// the address (`Loopback.isLoopback(host:)`): `127.example.com` is a name, and counts only if every
    /// address it resolves to is in 127.0.0.0/8 or `::1`.
    static func check(_ address: String, allowRemote: Bool) throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT with a port from 1 to 65535, got '\(address)'")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if !Loopback.isLoopback(host: host.isEmpty ? "127.0.0.1" : host) {
            guard allowRemote else {
                throw ValidationError("--listen \(address) is not a loopback address; pass --allow-remote to serve the API beyond this machine")
            }
            FileIO.warn("flowforge: warning: serving the API on \(address), reachable beyond this machine; process actions still need the API key")
        }
    }

    /// `api.allowed_hosts` (comma- or space-separated) as a list.
    static func hostList(_ text: String) -> [String] {
        text.split { $0 == "," || $0 == " " }.map(String.init)
    }

    /// Checks `--allowed-host` names: a host name or address without scheme, path or port (loopback names and
    /// the listen address are always allowed; these are the names a remote client or a reverse proxy sends).
    static func checkAllowedHosts(_ names: [String]) throws {
        for name in names where HostAllowlist.normalized(name) == nil {
            throw ValidationError("--allowed-host must be a host name or address without port, scheme or path, got '\(name)'")
        }
    }
}
