// FlowForge — each argument rule of the HTTP roles' seccomp policies, shown biting under the real filter.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

/// One call tried under one role's filter, in its own process (`flowforge seccomp-probe ROLE CALL`).
struct ArgumentProbe: Sendable, CustomTestStringConvertible {
    let role: String
    let call: String
    let allowed: Bool
    var testDescription: String { "\(role) \(call) \(allowed ? "allowed" : "refused")" }
}

private func probes(_ role: String, allowed: [String], refused: [String]) -> [ArgumentProbe] {
    allowed.map { ArgumentProbe(role: role, call: $0, allowed: true) } + refused.map { ArgumentProbe(role: role, call: $0, allowed: false) }
}

/// The calls a compromised API agent or dashboard could use against another process of its uid (signal it
/// through F_SETOWN/F_SETSIG/O_ASYNC or FIOSETOWN/FIOASYNC, renice it, read or change its limits), inject
/// terminal input (TIOCSTI), or reach a new address; and, as the controls that show the probe works, the
/// harmless forms the servers need.
///
/// Both servers get their listening socket before the filter (ListeningSocket): neither may open a TCP or UDP
/// socket, bind or listen (a listener of its own, or a socket to a new address); the dashboard keeps unix
/// sockets, for the runs' control endpoints.
private let cases: [ArgumentProbe] = ["api", "dashboard"].flatMap { role in
    probes(role,
           allowed: ["fcntl-getfl", "fcntl-setfl-nonblock", "ioctl-fionread", "prlimit-self", "setpriority-self",
                     "sendto-connected"] + (role == "dashboard" ? ["fcntl-getlk", "socket-unix"] : []),
           refused: ["fcntl-setfl-async", "fcntl-setown", "fcntl-setown-ex", "fcntl-setsig", "fcntl-setlease",
                     "ioctl-fiosetown", "ioctl-siocspgrp", "ioctl-fioasync", "ioctl-tiocsti", "prlimit-other",
                     "setpriority-other", "setpriority-group", "sendto-address", "socket-inet", "socket-netlink",
                     "socket-packet", "bind-inet", "listen"]
               + (role == "api" ? ["fcntl-getlk", "socket-unix"] : []))
} + probes("none", allowed: ["socket-inet", "bind-inet", "listen"], refused: []) // the same calls without a filter

@Suite("Seccomp argument rules")
struct SeccompArgumentTests {
    @Test(arguments: cases)
    func callUnderFilter(_ probe: ArgumentProbe) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        p.arguments = ["seccomp-probe", probe.role, probe.call]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if probe.allowed {
            #expect(p.terminationReason == .exit && p.terminationStatus == 0 && text == "\(probe.call): allowed\n", "\(text)")
        } else {
            // Refused cleanly (EPERM), or taken by the filter's default action (SIGSYS): never carried out.
            let killed = p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGSYS
            let eperm = p.terminationReason == .exit && text == "\(probe.call): refused (errno \(EPERM))\n"
            #expect(killed || eperm, "\(probe.role) \(probe.call): \(text) status \(p.terminationStatus)")
        }
    }
}
