// FlowForge — test-only: install a role's seccomp policy and try one argument-checked call under it.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem

/// `flowforge seccomp-probe ROLE CALL` (hidden; debug builds only; ROLE `none` installs no filter): prints `CALL: allowed` or
/// `CALL: refused (errno N)`, or dies by SIGSYS when the policy's default action takes the call. It shows
/// each argument rule of SeccompPolicy biting, one process per call (Tests: SeccompArgumentTests).
struct SeccompProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seccomp-probe", shouldDisplay: false)

    @Argument var role: String
    @Argument var call: String

    func run() throws {
        #if DEBUG
        // Role "none": no filter at all, the control that shows a probe can succeed.
        let policy = SeccompPolicy.all.first { $0.role == role }
        guard policy != nil || role == "none" else { throw ValidationError("no seccomp policy for role '\(role)'") }
        let prepared = Sandbox.prepareProbe()
        guard prepared == 0 else { throw ValidationError("cannot prepare the probe: errno \(prepared)") }
        if let policy { try Sandbox.lockDown(policy: policy, enforcement: .kill) }
        let rc = Sandbox.probe(call)
        let line = rc == 0 ? "\(call): allowed\n" : "\(call): refused (errno \(rc))\n"
        try? FileIO.writeAll(1, line)
        CurrentProcess.exit(rc == 0 ? 0 : 1)
        #else
        throw ValidationError("seccomp-probe exists in debug builds only")
        #endif
    }
}
