// FlowForge — signalling the worker's whole tree: process group, cgroup, and descendants that left the group.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

extension ReaperLoop {
    /// Sends `signal` to everything generation `g` started.
    ///
    /// - The process group, through the leader's pidfd (PIDFD_SIGNAL_PROCESS_GROUP pins the group even after
    ///   the leader is reaped; Linux >= 6.9), falling back to `kill(-pgid)`.
    /// - The cgroup: `cgroup.kill` for SIGKILL (atomic, catches forks in flight), each member for SIGTERM.
    /// - Descendants that left the group (`setsid`) and orphans we adopted as subreaper, from a spawner scan.
    ///
    /// - Important: never targets the reaper's own group: the worker always runs in its own session.
    func signalTree(generation g: UInt32, _ signal: Signal) {
        guard let w = worker, w.generation == g else { return }
        if hooks.isOff("tree-teardown") {
            log.sending("\(signal) to the worker (pid \(w.pid))") { try Pidfd.signal(w.pidfd, signal) }
            return
        }
        precondition(w.pid != ownGroup, "the worker's group is never the reaper's own")
        let cgroupKill = w.hasCgroup && signal == .kill && !hooks.isOff("escapees")
        if cgroupKill {
            // First, because it is atomic and reaches everything: the group signal below is the backstop.
            log.sending("cgroup.kill of generation \(g)") {
                try Cgroup.kill(throughKillFD: w.cgroupKillFD)
                return .delivered
            }
        }
        log.sending("\(signal) to the worker's group (pgid \(w.pid))") {
            do {
                return try Pidfd.signal(w.pidfd, signal, group: true)
            } catch let error as SystemError where error.errno == Errno.invalidArgument {
                return try signal.send(toGroup: w.pid) // kernels before 6.9
            }
        }
        if hooks.isOff("escapees") {
            return
        }
        var cgroupMembers = 0
        if w.hasCgroup && !cgroupKill {
            let members = Cgroup.pids(procsFD: w.cgroupProcsFD)
            cgroupMembers = members.count
            for pid in members { signalOne(pid, signal) }
        }
        emit(.teardownSignal, generation: g,
             fields: ["signal": "\(signal)", "mechanism": w.mechanism, "cgroup_members": "\(cgroupMembers)"])
        // cgroup.kill reached every member at once; only a process that left the cgroup still needs the scan,
        // and that scan runs once the cgroup is empty (checkTree). Walking /proc while a large tree exits
        // takes a core from the kernel's own teardown of it (docs/BENCHMARKS.md, teardown).
        if cgroupKill {
            scan.signalWithNextScan(signal)
        } else if scan.signal(signal) {
            requestScan()
        }
    }

    /// Asks whether anything of generation `g` is still alive; answers with `.treeChecked`.
    func checkTree(generation g: UInt32) {
        if let w = worker, w.generation == g, w.hasCgroup, !Cgroup.pids(procsFD: w.cgroupProcsFD).isEmpty {
            // Members left in the cgroup: not empty, and no need to walk /proc to know it.
            execute(machine.handle(.treeChecked(empty: false), now: Clock.monotonicNanos()))
            return
        }
        if scan.check() { requestScan() }
    }

    /// Sends the scan request `scan` said to send; without a spawner, answers a pending check from the
    /// cgroup alone (the only thing that can tell us anything then).
    private func requestScan() {
        guard spawnerAlive else {
            if scan.abandon() {
                let empty = worker.map { $0.hasCgroup ? Cgroup.pids(procsFD: $0.cgroupProcsFD).isEmpty : true } ?? true
                execute(machine.handle(.treeChecked(empty: empty), now: Clock.monotonicNanos()))
            }
            return
        }
        sendSpawner(.scan, expecting: .scan)
    }

    func scanReplied(_ pids: [Int32]) {
        let reply = scan.replied()
        if let signal = reply.signal, !hooks.isOff("escapees") && !hooks.isOff("tree-teardown") {
            for pid in pids { signalOne(pid, signal) }
        }
        if reply.check {
            var empty = pids.isEmpty
            if hooks.isOff("escapees") || hooks.isOff("tree-teardown"), let w = worker {
                // With the guarantee off, only the group counts (the drill must then find the escapee).
                let table = ProcessTable.snapshot()
                empty = !pids.contains { table.entries[$0]?.pgid == w.pid }
            }
            if let w = worker, w.hasCgroup, !Cgroup.pids(procsFD: w.cgroupProcsFD).isEmpty { empty = false }
            execute(machine.handle(.treeChecked(empty: empty), now: Clock.monotonicNanos()))
        }
        if reply.scanAgain { requestScan() }
    }

    /// Signals one process through a pidfd, so a PID recycled between scan and signal is never hit twice.
    private func signalOne(_ pid: Int32, _ signal: Signal) {
        guard pid > 1, pid != CurrentProcess.id, pid != spawnerPID, !agents.values.contains(where: { $0.pid == pid }),
              let fd = Pidfd.open(pid) else { return }
        log.sending("\(signal) to pid \(pid)") { try Pidfd.signal(fd, signal) }
        FileIO.close(fd)
    }
}
