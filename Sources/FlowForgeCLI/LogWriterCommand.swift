// FlowForge — `flowforge log-writer` (hidden): copies an instance's stdout and stderr pipes into its log files.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
import Foundation

/// Started by `flowforge up` for each instance, beside its `flowforge run`: descriptor 0 is the run's stdout
/// pipe, descriptor 3 its stderr pipe. Exits when both reach EOF (the run and everything that held the pipes
/// are gone). SIGTERM, SIGINT and SIGHUP are ignored: a service manager signalling the whole group must not
/// take the log away from a worker still draining its output during its grace period (it would get EPIPE).
struct LogWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-writer",
        abstract: "Copy an instance's stdout (fd 0) and stderr (fd 3) into rotated log files (used by flowforge up).",
        shouldDisplay: false
    )

    /// The logs directory (`logs/` in the state directory).
    @Option var directory: String
    /// The instance's name: the files are NAME.out.log and NAME.err.log.
    @Option var name: String
    @Option(name: .customLong("rotate-bytes")) var rotateBytes: Int
    @Option var keep: Int

    func run() throws {
        for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { signal(s, SIG_IGN) }
        let dir = try RotatingLog.openDirectory(directory)
        var logs = [try RotatingLog(directory: dir, name: "\(name).out.log", limit: rotateBytes, keep: keep),
                    try RotatingLog(directory: dir, name: "\(name).err.log", limit: rotateBytes, keep: keep)]
        var descriptors = [PollDescriptor(fd: 0, events: .readable), PollDescriptor(fd: 3, events: .readable)]
        var open = [true, true]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while open.contains(true) {
            for i in descriptors.indices { descriptors[i].fd = open[i] ? (i == 0 ? 0 : 3) : -1 }
            do { try Poll.wait(&descriptors, timeoutMillis: -1) } catch {
                FileIO.warn("flowforge log-writer: \(error)")
                throw ExitCode(111)
            }
            for i in descriptors.indices where open[i] && !descriptors[i].revents.isEmpty {
                let result = buffer.withUnsafeMutableBytes { FileIO.read(descriptors[i].fd, into: $0) }
                switch result {
                case .success(let n) where n > 0: logs[i].append(buffer[0..<n])
                case .success: open[i] = false
                case .failure(let error) where error.errno == EAGAIN: continue
                case .failure(let error):
                    FileIO.warn("flowforge log-writer: read: \(error)")
                    open[i] = false
                }
            }
        }
    }
}
