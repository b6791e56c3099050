// FlowForge — `flowforge logs`: the last lines of an instance's stdout and stderr logs, and following them.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
import Foundation

/// `flowforge logs NAME[:INSTANCE] [-n N] [-f] [--stdout|--stderr]`.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the last lines of an instance's stdout and stderr logs; -f follows them.",
        discussion: """
            flowforge up sends each instance's stdout and stderr to logs/NAME:N.out.log and \
            logs/NAME:N.err.log in the state directory, rotated past logs.rotate_mb (NAME:N.out.log.1 is the \
            newest rotated file, up to logs.keep_rotated of them). NAME shows every instance of a program. \
            With more than one file, each block is headed "==> NAME:N stdout <==", as tail does. -f keeps \
            printing what is appended, and follows each log across its rotation.

            Examples:
              flowforge logs consumer:1
              flowforge logs consumer -n 100 --stderr
              flowforge logs crawler -f
            """
    )

    @Argument(help: "NAME (every instance) or NAME:INSTANCE.")
    var name: String

    @Option(name: .short, help: "Lines to print from the end of each log.")
    var n = 20

    @Flag(name: .short, help: "Follow: print lines as they are appended, across rotation, until interrupted.")
    var follow = false

    @Flag(help: "Only stdout.")
    var stdout = false

    @Flag(help: "Only stderr.")
    var stderr = false

    func validate() throws {
        guard n >= 0 else { throw ValidationError("-n must be 0 or more") }
        guard !(stdout && stderr) else { throw ValidationError("--stdout and --stderr together are the default: give neither") }
    }

    func run() throws {
        let logs = Executable.absolute(StateDirectory.path()) + "/logs"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []).compactMap { file -> (name: String, stream: String, path: String)? in
            for (suffix, stream) in [(".out.log", "stdout"), (".err.log", "stderr")] where file.hasSuffix(suffix) {
                let instance = String(file.dropLast(suffix.count))
                guard Fleet.matches(instance, name), name != "all" else { return nil }
                if (stdout && stream != "stdout") || (stderr && stream != "stderr") { return nil }
                return (instance, stream, logs + "/" + file)
            }
            return nil
        }.sorted { ($0.name, $0.stream == "stdout" ? 0 : 1) < ($1.name, $1.stream == "stdout" ? 0 : 1) }
        guard !files.isEmpty else {
            throw ValidationError("no logs for \(name) in \(logs) (logs are kept for instances flowforge up started)")
        }
        var followers = files.map { LogFollower(path: $0.path, header: "==> \($0.name) \($0.stream) <==") }
        let headers = files.count > 1
        var last = -1
        // One writer for headers and log bytes alike (print's buffer would reorder them).
        func emit(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
        for (i, f) in followers.enumerated() {
            if headers { emit((i > 0 ? "\n" : "") + f.header + "\n") }
            FileHandle.standardOutput.write(Data(LogsCommand.lastLines(f.path, n)))
            last = i
        }
        guard follow else { return }
        signal(SIGPIPE, SIG_DFL)
        while true {
            for i in followers.indices {
                let new = followers[i].poll()
                guard !new.isEmpty else { continue }
                if headers && last != i { emit("\n" + followers[i].header + "\n") }
                last = i
                FileHandle.standardOutput.write(Data(new))
            }
            usleep(200_000)
        }
    }

    /// The last `count` lines of the log at `path`, reaching back into its rotated files (`.1`, `.2`, ...)
    /// when the live one, just rotated, holds fewer.
    static func lastLines(_ path: String, _ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var file = path
        for older in 1...1001 {
            guard FileManager.default.fileExists(atPath: file) else { break }
            out = lastLines(ofFile: file, count - lines(in: out)) + out
            if lines(in: out) >= count { break }
            file = "\(path).\(older)"
        }
        return out
    }

    /// Lines in `bytes`, a last one without a newline included.
    static func lines(in bytes: [UInt8]) -> Int {
        bytes.filter { $0 == UInt8(ascii: "\n") }.count + (bytes.last.map { $0 == UInt8(ascii: "\n") ? 0 : 1 } ?? 0)
    }

    /// The last `count` lines of the file at `path` (reading back from its end in 64 KiB steps).
    static func lastLines(ofFile path: String, _ count: Int) -> [UInt8] {
        guard count > 0, let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        var start = size
        var tail: [UInt8] = []
        while start > 0 {
            let step = min(start, 65_536)
            start -= step
            try? handle.seek(toOffset: start)
            tail = Array((try? handle.read(upToCount: Int(step))) ?? Data()) + tail
            // count + 1 newlines (the one ending the last line included) mark the start of the last count lines.
            if tail.dropLast().filter({ $0 == UInt8(ascii: "\n") }).count >= count { break }
        }
        var newlines = 0
        var index = tail.endIndex
        for i in tail.indices.reversed() where tail[i] == UInt8(ascii: "\n") && i != tail.endIndex - 1 {
            newlines += 1
            if newlines == count {
                index = i + 1
                break
            }
        }
        return newlines == count ? Array(tail[index...]) : tail
    }
}

/// Follows one log file by name, like `tail -F`: when the path names a new file (rotation), the rest of the
/// old one is read first, then the new one from its start.
struct LogFollower {
    let path: String
    let header: String
    private var handle: FileHandle?
    private var inode: UInt64 = 0

    init(path: String, header: String) {
        self.path = path
        self.header = header
        open(atEnd: true)
    }

    private mutating func open(atEnd: Bool) {
        handle = FileHandle(forReadingAtPath: path)
        inode = LogFollower.inode(path) ?? 0
        if atEnd { _ = try? handle?.seekToEnd() }
    }

    /// What was appended since the last call.
    mutating func poll() -> [UInt8] {
        var out = Array((try? handle?.readToEnd()) ?? nil ?? Data())
        if let now = LogFollower.inode(path), now != inode {
            out += Array((try? handle?.readToEnd()) ?? nil ?? Data())
            try? handle?.close()
            open(atEnd: false)
            out += Array((try? handle?.readToEnd()) ?? nil ?? Data())
        } else if let h = handle, let size = LogFollower.size(path), let offset = try? h.offset(), size < offset {
            // Truncated in place (keep_rotated 0): start over.
            try? h.seek(toOffset: 0)
            out += Array((try? h.readToEnd()) ?? nil ?? Data())
        }
        return out
    }

    static func inode(_ path: String) -> UInt64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? NSNumber)?.uint64Value
    }

    static func size(_ path: String) -> UInt64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value
    }
}
