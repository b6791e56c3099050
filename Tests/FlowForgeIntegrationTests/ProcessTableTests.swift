// FlowForge — the detector's walk of a tree through /proc/PID/task/TID/children against the full /proc scan.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeTestSupport
import Foundation
import Testing

@Suite struct ProcessTableTests {
    /// A real tree: a shell with a child, a grandchild in its own session, and a child forked by a second
    /// thread (python's threading), so that every thread's `children` list is needed. The walk finds exactly
    /// what following parent links through a snapshot of every process finds, and leaves out an excluded
    /// subtree the same way.
    @Test(.timeLimit(.minutes(1))) func walkFindsWhatTheFullScanFinds() throws {
        let marker = Marker.make("ptable")
        defer { killMarked(marker) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", """
            sleep 60 &
            setsid sh -c 'sleep 60 & exec sleep 60' &
            python3 -c 'import subprocess, threading, time
            t = threading.Thread(target=lambda: subprocess.Popen(["sleep", "60"]).wait()); t.start(); t.join()' &
            wait
            """]
        process.environment = ["PATH": "/usr/bin:/bin", Marker.variable: marker]
        try process.run()
        let root = process.processIdentifier
        // sleep, setsid sh (exec'd sleep) + its sleep, python + its thread's sleep.
        #expect(eventually { ProcessTable.snapshot().descendants(of: root).count == 5 })
        let walked = try #require(ProcessTable.tree(of: root))
        let full = ProcessTable.snapshot()
        #expect(Set(walked.descendants(of: root)) == Set(full.descendants(of: root)))
        #expect(Set(walked.entries.keys) == Set(full.descendants(of: root)))
        let python = try #require(full.descendants(of: root).first { cmdline($0).first == "python3" })
        let without = try #require(ProcessTable.tree(of: root, excluding: [python]))
        #expect(Set(without.descendants(of: root, excluding: [python])) == Set(full.descendants(of: root, excluding: [python])))
        #expect(without.entries.count == 3)
        #expect(ProcessTable.tree(of: Int32.max) == nil, "no such process: nil, so the caller falls back to the scan")
    }
}

/// The memory files of a worker cgroup. The kernel's own files need the memory controller in FlowForge's
/// cgroup v2 hierarchy, which this machine (hybrid: memory on cgroup v1) does not have: a plain directory
/// stands in for the cgroup.
@Suite struct CgroupMemoryTests {
    @Test func memoryHighIsWrittenOnlyWhereTheControllerIs() throws {
        let dir = try makeTemporaryDirectory("ff-cg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(!Cgroup(path: dir).setMemoryHigh(bytes: 1 << 20), "no memory.high file: no memory controller")
        _ = FileManager.default.createFile(atPath: dir + "/memory.high", contents: Data("max\n".utf8))
        #expect(Cgroup(path: dir).setMemoryHigh(bytes: 230_686_720))
        #expect(try String(contentsOfFile: dir + "/memory.high", encoding: .utf8).hasPrefix("230686720\n"))
    }

    @Test func oomKillsAreReadFromMemoryEvents() {
        #expect(Cgroup.flatKeyed("usage_usec", in: "usage_usec 123456\nuser_usec 100000\n") == 123456)
        #expect(Cgroup.flatKeyed("oom_kill", in: "low 0\nhigh 12\nmax 3\noom 2\noom_kill 2\noom_group_kill 0\n") == 2)
        #expect(Cgroup.flatKeyed("oom_kill", in: "low 0\nhigh 0\n") == nil)
    }
}
