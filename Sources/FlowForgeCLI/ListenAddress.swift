// FlowForge — validating a --listen address: loopback unless the operator explicitly allows more.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem

enum ListenAddress {
    /// Checks `HOST:PORT`; a non-loopback host needs `allowRemote` and gets a warning.
    static func check(_ address: String, allowRemote: Bool) throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT with a port from 1 to 65535, got '\(address)'")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback {
            guard allowRemote else {
                throw ValidationError("--listen \(address) is not a loopback address; pass --allow-remote to serve the API beyond this machine")
            }
            FileIO.warn("flowforge: warning: serving the API on \(address), reachable beyond this machine; process actions still need the API key")
        }
    }
}
