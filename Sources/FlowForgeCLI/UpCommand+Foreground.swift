// FlowForge — `flowforge up --foreground`: stay attached to the started instances, stop them on a signal.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
import Foundation

extension UpCommand {
    /// The attached `up`: reports instances that end, and on SIGTERM, SIGINT, SIGHUP or SIGQUIT sends SIGTERM
    /// to each started instance's reaper (each tears its worker's tree down with its program's grace, then
    /// exits), and returns once every reaper and log writer is gone. A second signal is passed on too: each
    /// reaper then skips the rest of its grace (SIGKILL to the tree now). Instances this `up` adopted are
    /// not its to stop.
    struct Foreground {
        let signals: Int32
        let instances: [LaunchedInstance]
        let logWriters: [SpawnedProcess]

        func run() throws {
            var reapers = Dictionary(uniqueKeysWithValues: instances.map { ($0.reaper.pidfd, $0) })
            var writers = Set(logWriters.map(\.pidfd))
            var stopping = false
            say("attached to \(instances.count) instance\(instances.count == 1 ? "" : "s"); SIGTERM stops them")
            while !(stopping && reapers.isEmpty && writers.isEmpty) {
                var descriptors = [PollDescriptor(fd: signals, events: .readable)]
                    + reapers.keys.sorted().map { PollDescriptor(fd: $0, events: .readable) }
                    + writers.sorted().map { PollDescriptor(fd: $0, events: .readable) }
                _ = try? Poll.wait(&descriptors, timeoutMillis: 1000)
                while let taken = SignalFD.read(signals) {
                    guard taken.signal != .child else { continue }
                    say("\(taken.signal)\(stopping ? " again: the reapers skip the rest of their grace" : ": stopping \(reapers.count) instance\(reapers.count == 1 ? "" : "s")")")
                    stopping = true
                    for fd in reapers.keys { _ = try? Pidfd.signal(fd, .terminate) }
                }
                for (fd, instance) in reapers {
                    guard let status = try? Pidfd.exitStatus(fd, peek: false) else { continue }
                    reapers[fd] = nil
                    FileIO.close(fd)
                    say("\(instance.name): \(describe(status))")
                }
                for fd in writers where (try? Pidfd.exitStatus(fd, peek: false)) != nil {
                    writers.remove(fd)
                    FileIO.close(fd)
                }
            }
            say("every instance it started has stopped")
        }

        private func describe(_ status: ExitStatus) -> String {
            switch status {
            case .exited(120): "stopped (exit 120)"
            case .exited(let code): "ended: exit \(code)"
            case .signaled(let signal): "ended: signal \(signal)"
            }
        }

        private func say(_ line: String) { FileIO.warn("flowforge up: \(line)") }
    }
}
