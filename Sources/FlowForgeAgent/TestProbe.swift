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
        if ProcessEnvironment.list("FLOWFORGE_TEST_FORBIDDEN_SYSCALL", contains: role) {
            _ = Sandbox.attemptForbiddenSyscall()
        }
        #endif
    }

    /// Test-only: `FLOWFORGE_TEST_REQUEST_RESTART=N` (debug builds only) makes the detector ask the reaper to
    /// restart the worker once generation N has started: the restart path without the detection rules.
    public static func restartRequestGeneration() -> UInt32? {
        #if DEBUG
        if let raw = getenv("FLOWFORGE_TEST_REQUEST_RESTART") { return UInt32(String(cString: raw)) }
        #endif
        return nil
    }

    /// Test-only: `FLOWFORGE_TEST_AGENT_GARBAGE=api` (debug builds only) makes that agent send a malformed
    /// frame after its hello, to prove the reaper survives bad input and restarts the agent.
    public static func sendsGarbage(role: String) -> Bool {
        #if DEBUG
        return ProcessEnvironment.list("FLOWFORGE_TEST_AGENT_GARBAGE", contains: role)
        #else
        return false
        #endif
    }
}
