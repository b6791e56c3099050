// FlowForge — the reaper's log: one line per event on stderr, level-filtered. No Foundation.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem

/// The reaper's logger. Lines look like `flowforge[reaper 1234]: message`.
struct Log {
    var level: ReaperConfig.LogLevel
    var name: String

    func callAsFunction(_ level: ReaperConfig.LogLevel, _ message: @autoclosure () -> String) {
        guard level <= self.level else { return }
        let tag = level == .error ? "error: " : (level == .warn ? "warning: " : "")
        try? FileIO.writeAll(2, "flowforge[\(name)]: \(tag)\(message())\n")
    }
}
