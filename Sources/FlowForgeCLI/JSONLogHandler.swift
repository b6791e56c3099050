// FlowForge — a swift-log handler that writes one JSON object per line ({ts, level, component, pid, msg}),
// the same shape the reaper and the agents use with --log-format json.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire
import Foundation
import Logging

struct JSONLogHandler: LogHandler {
    let component: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = event.message.description
        let all = metadata.merging(event.metadata ?? [:]) { _, b in b }
        if !all.isEmpty { text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        let name: String
        switch event.level {
        case .trace, .debug: name = "debug"
        case .info, .notice: name = "info"
        case .warning: name = "warn"
        case .error, .critical: name = "error"
        }
        writeJSONLog(level: name, component: component, message: text)
    }
}

/// One JSON log line on stderr, the shape the reaper and the agents write.
func writeJSONLog(level: String, component: String, message: String) {
    try? FileIO.writeAll(2, Event.jsonLogLine(level: level, component: component, pid: getpid(), message: message,
                                              wallNanos: Clock.wallNanos()))
}

/// The dashboard's own messages, as text or JSON lines.
struct CLILog {
    let json: Bool
    let component: String

    func info(_ message: String) {
        if json { writeJSONLog(level: "info", component: component, message: message) } else { print(message) }
    }

    func error(_ message: String) {
        if json {
            writeJSONLog(level: "error", component: component, message: message)
        } else {
            FileIO.warn("\(component): error: \(message)")
        }
    }

    func warn(_ message: String) {
        if json {
            writeJSONLog(level: "warn", component: component, message: message)
        } else {
            FileIO.warn("\(component): warning: \(message)")
        }
    }
}
