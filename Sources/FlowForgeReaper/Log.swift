// FlowForge — the reaper's log: one line per event on stderr, level-filtered. No Foundation.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The reaper's logger. Lines look like `flowforge[reaper 1234]: message`.
struct Log {
    var level: ReaperConfig.LogLevel
    var name: String
    var json = false

    init(level: ReaperConfig.LogLevel, name: String, json: Bool = false) {
        self.level = level
        self.name = name
        self.json = json
    }

    func callAsFunction(_ level: ReaperConfig.LogLevel, _ message: @autoclosure () -> String) {
        guard level <= self.level else { return }
        if json {
            let component = String(name.prefix { $0 != " " })
            try? FileIO.writeAll(2, Event.jsonLogLine(level: level.name, component: component, pid: CurrentProcess.id,
                                                      message: message(), wallNanos: Clock.wallNanos()))
            return
        }
        let tag = level == .error ? "error: " : (level == .warn ? "warning: " : "")
        try? FileIO.writeAll(2, "flowforge[\(name)]: \(tag)\(message())\n")
    }
}

extension Log {
    /// Runs one signal-sending call (a pidfd, kill(-pgid), cgroup.kill) and logs it when it fails. A target
    /// already gone (ESRCH) is the normal end of a race with its death: a debug line, not an error.
    func sending(_ what: @autoclosure () -> String, _ send: () throws -> SignalDelivery) {
        do {
            if try send() == .noSuchProcess { self(.debug, "\(what()): already gone") }
        } catch {
            self(.error, "\(what()): \(error)")
        }
    }
}
