// FlowForge — a debug-only probe that makes a sandboxed agent attempt a syscall outside its allowlist.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// Test-only: `FLOWFORGE_TEST_FORBIDDEN_SYSCALL=detector,api` (debug builds only) makes that agent call
/// `mkdir` right after sandboxing, which its filter answers with SIGSYS. Release builds compile it out.
public enum TestProbe {
    public static func attemptIfAsked(role: String) {
        #if DEBUG
        if let raw = getenv("FLOWFORGE_TEST_FORBIDDEN_SYSCALL"),
           String(cString: raw).split(separator: ",").contains(where: { $0 == role }) {
            _ = Sandbox.attemptForbiddenSyscall()
        }
        #endif
    }
}
