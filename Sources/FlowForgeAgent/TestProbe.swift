// FlowForge — a debug-only probe that makes a sandboxed agent attempt a syscall outside its allowlist.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

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
        if let raw = ProcessEnvironment.value("FLOWFORGE_TEST_REQUEST_RESTART") { return UInt32(raw) }
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

    /// Test-only: `FLOWFORGE_TEST_AGENT_HOSTILE=api,detector` (debug builds only) makes that agent send, after
    /// its hello, well-formed messages the reaper must refuse: forged run events, impossible generations and
    /// times, incidents it never opened, reserved keys, and a flood. The reaper drops and counts them.
    public static func isHostile(role: String) -> Bool {
        #if DEBUG
        return ProcessEnvironment.list("FLOWFORGE_TEST_AGENT_HOSTILE", contains: role)
        #else
        return false
        #endif
    }

    /// The hostile agent's messages (see `isHostile`).
    public static func hostileMessages(runID: String) -> [Message] {
        func event(_ kind: String, generation: UInt32 = 1, wallNanos: Int64 = 0, _ fields: [(String, String)] = []) -> Message? {
            (try? Event(kind: kind, generation: generation, wallNanos: wallNanos, fields: fields.map { Field(key: $0.0, value: $0.1) }))
                .map { .event($0) }
        }
        var out: [Message?] = [
            event("worker.exited", wallNanos: .min, [("exit_code", "0"), ("forged", "hostile-agent")]),
            event("teardown.finished", wallNanos: .max, [("forged", "hostile-agent")]),
            event("sample", generation: .max, wallNanos: .max, [("forged", "hostile-agent")]),
            event("incident.closed", [("incident_id", "\(runID)-999"), ("forged", "hostile-agent")]),
            event("incident.opened", [("incident_id", "other-run-1"), ("forged", "hostile-agent")]),
            event("sample", [("seq", "1"), ("forged", "hostile-agent")]),
        ]
        for i in 0..<2000 { out.append(event("sample", wallNanos: Int64(i), [("forged", "hostile-flood")])) }
        return out.compactMap { $0 }
    }
}
