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
    /// not its to stop; instances of the fleet that `restart --grace` or `update` started since (new runs,
    /// from a shell) are: `systemctl stop flowforge-up` stops the fleet.
    struct Foreground {
        let signals: Int32
        let instances: [LaunchedInstance]
        let logWriters: [SpawnedProcess]
        /// The state directory, where the later instances are found.
        let state: String
        /// The names of the instances that ran already when this `up` started.
        let adopted: Set<String>

        func run() throws {
            var reapers = Dictionary(uniqueKeysWithValues: instances.map { ($0.reaper.pidfd, $0.name) })
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
                    if !stopping { reapers.merge(laterInstances(), uniquingKeysWith: { a, _ in a }) }
                    say("\(taken.signal)\(stopping ? " again: the reapers skip the rest of their grace" : ": stopping \(reapers.count) instance\(reapers.count == 1 ? "" : "s")")")
                    stopping = true
                    for fd in reapers.keys { _ = try? Pidfd.signal(fd, .terminate) }
                }
                for (fd, name) in reapers {
                    // A later instance's reaper is not our child: its pidfd turns readable when it exits, with no
                    // status for us to collect.
                    let ended: String
                    if let status = try? Pidfd.exitStatus(fd, peek: false) { ended = describe(status) } else if exited(fd) { ended = "stopped" } else { continue }
                    reapers[fd] = nil
                    FileIO.close(fd)
                    say("\(name): \(ended)")
                }
                for fd in writers where (try? Pidfd.exitStatus(fd, peek: false)) != nil {
                    writers.remove(fd)
                    FileIO.close(fd)
                }
            }
            say("every instance it started has stopped")
        }

        /// Pinned reapers of the fleet's live instances (by fleet.json's names now) that this `up` neither started
        /// nor adopted: those `restart --grace` or `update` started since.
        private func laterInstances() -> [Int32: String] {
            let names = Set(FleetRecord.read(state: state)?.instances ?? [])
            let own = Set(instances.map(\.reaper.pid))
            var out: [Int32: String] = [:]
            for run in Fleet.liveRuns(state: state)
            where names.contains(run.name) && !adopted.contains(run.name) && run.reaperPID > 0 && !own.contains(run.reaperPID) {
                if let fd = Pidfd.open(run.reaperPID) { out[fd] = run.name }
            }
            return out
        }

        /// Whether the process behind `fd` is gone (a pidfd polls readable once its process exited).
        private func exited(_ fd: Int32) -> Bool {
            var descriptor = [PollDescriptor(fd: fd, events: .readable)]
            _ = try? Poll.wait(&descriptor, timeoutMillis: 0)
            return descriptor[0].revents.contains(.readable)
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
