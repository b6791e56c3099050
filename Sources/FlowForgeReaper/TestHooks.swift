// FlowForge — switches that turn one guarantee off, so a drill can prove it would notice. Debug builds only.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem

/// Guarantees a test may switch off through `FLOWFORGE_TEST_DISABLE` (comma-separated).
///
/// - Important: compiled in only when `DEBUG` is set (debug builds). A release build ignores the variable,
///   so production never runs with a guarantee off.
public struct TestHooks: Sendable {
    public var disabled: Set<String> = []

    public static func fromEnvironment() -> TestHooks {
        var hooks = TestHooks()
        #if DEBUG
        if let raw = ProcessEnvironment.value("FLOWFORGE_TEST_DISABLE") {
            hooks.disabled = Set(raw.split(separator: ",").map(String.init))
        }
        #endif
        return hooks
    }

    public func isOff(_ guarantee: String) -> Bool { disabled.contains(guarantee) }

    /// A debug-only instruction to this process to attempt a syscall outside its allowlist once sandboxed.
    public static func wantsForbiddenSyscall(role: String) -> Bool {
        #if DEBUG
        return ProcessEnvironment.list("FLOWFORGE_TEST_FORBIDDEN_SYSCALL", contains: role)
        #else
        return false
        #endif
    }
}
