// FlowForge — every FlowForge process is hardened, proven from /proc/PID/status.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import FlowForgeSystem
import Testing

@Suite("Hardening, read from /proc/PID/status", .serialized)
struct HardeningTests {
    /// Reaper: CAP_KILL only (root) or nothing, empty bounding set, NNP, filter. Agents: nobody, no caps,
    /// NNP, filter. Spawner and worker: unfiltered, the worker a direct child of the reaper, before and after
    /// a restart (the seccomp filter is inherited across fork and exec, so this is the design's main risk).
    @Test(.timeLimit(.minutes(1)))
    func statusOfEveryProcess() throws {
        let ff = try Supervised(["--grace", "1", "--log-level", "debug", "--", "sleep", "60"],
                                env: ["FLOWFORGE_TEST_REQUEST_RESTART": "1"])
        defer { ff.signal(SIGKILL) }
        // The detector asks for one restart once generation 1 runs; the debug log names each generation's pid.
        func workerPID(generation: Int) -> Int32? {
            for line in ff.stderr.split(separator: "\n") where line.hasSuffix("generation \(generation)") {
                if let r = line.range(of: "worker started: pid ") {
                    return Int32(line[r.upperBound...].prefix(while: { $0.isNumber }))
                }
            }
            return nil
        }
        #expect(eventually(timeout: 15) { workerPID(generation: 2) != nil && ff.worker() == workerPID(generation: 2) },
                "no restart happened: \(ff.stderr)")
        let firstWorker = try #require(workerPID(generation: 1))
        // Both agents up and sandboxed (they drop privileges as the first thing they do).
        #expect(eventually {
            ["flowforge-detector", "flowforge-api"].allSatisfy { name in
                ff.child(named: name).flatMap { ProcStatus.read(pid: $0) }?.seccomp == 2
            }
        })

        let reaper = try #require(ProcStatus.read(pid: ff.pid))
        #expect(reaper.seccomp == 2)
        #expect(reaper.noNewPrivs == 1)
        if isRoot { #expect(reaper.capBnd == 0) } // unprivileged: the bounding set is as inherited
        #expect(reaper.capInh == 0 && reaper.capAmb == 0)
        #expect(reaper.capEff == (isRoot ? 1 << 5 : 0))
        #expect(reaper.capPrm == (isRoot ? 1 << 5 : 0))

        for name in ["flowforge-detector", "flowforge-api"] {
            let pid = try #require(ff.child(named: name))
            let s = try #require(ProcStatus.read(pid: pid))
            #expect(s.seccomp == 2, "\(name)")
            #expect(s.noNewPrivs == 1, "\(name)")
            #expect(s.capEff == 0 && s.capPrm == 0 && s.capInh == 0 && s.capAmb == 0, "\(name)")
            if isRoot { #expect(s.capBnd == 0, "\(name)") }
            if isRoot { #expect(s.uid == [65534, 65534, 65534, 65534], "\(name)") }
            // Privileges are per thread: every thread an agent runs (the API agent's control thread included)
            // must show the same dropped state.
            for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
                let t = ProcStatus(parsing: (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)) ?? "")
                #expect(t.seccomp == 2 && t.noNewPrivs == 1 && t.capEff == 0 && t.capPrm == 0, "\(name) thread \(tid)")
            }
        }

        let worker = try #require(ff.worker())
        #expect(worker != firstWorker)
        let w = try #require(ProcStatus.read(pid: worker))
        #expect(w.seccomp == 0, "the worker must not inherit the reaper's filter")
        #expect(w.noNewPrivs == 0)
        #expect(w.ppid == ff.pid, "the worker is the reaper's own child (clone3 CLONE_PARENT)")
        if isRoot { #expect(w.capBnd != 0 && w.capEff != 0, "a root worker keeps root's capabilities") }

        let spawner = try #require(ff.child(named: "flowforge-reaper"))
        #expect(ProcStatus.read(pid: spawner)?.seccomp == 0)

        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 120)
    }

    /// With --listen the API agent runs SwiftNIO threads: every one of them must carry the dropped
    /// privileges and the filter (capabilities are per thread; the agent sandboxes itself before any exists).
    @Test(.timeLimit(.minutes(1)))
    func everyAPIThreadIsSandboxed() throws {
        let port = try LoopbackHTTP.freePort()
        let ff = try Supervised(["--listen", "127.0.0.1:\(port)", "--", "sleep", "60"])
        defer { ff.signal(SIGKILL) }
        var api: Int32?
        #expect(eventually(timeout: 15) {
            api = ff.child(named: "flowforge-api")
            guard let api, let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(api)/task") else { return false }
            return tasks.count > 1
        }, "the API agent never started its server threads: \(ff.stderr)")
        let pid = try #require(api)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        for tid in tasks {
            let text = try String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)
            let s = ProcStatus(parsing: text)
            #expect(s.seccomp == 2 && s.noNewPrivs == 1, "thread \(tid)")
            #expect(s.capEff == 0 && s.capPrm == 0, "thread \(tid)")
            if isRoot { #expect(s.uid == [65534, 65534, 65534, 65534] && s.capBnd == 0, "thread \(tid)") }
        }
    }

    /// When FlowForge starts unprivileged it has nothing to drop but still runs every filter.
    @Test(.timeLimit(.minutes(1)), .enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func unprivilegedStillFiltered() throws {
        let ff = try SupervisedAs(uid: 65534, ["--", "sleep", "60"])
        defer { ff.stop() }
        #expect(eventually {
            let agents = ff.children().filter { ["flowforge-detector", "flowforge-api"].contains((cmdline($0).first as NSString?)?.lastPathComponent ?? "") }
            return agents.count == 2 && agents.allSatisfy { ProcStatus.read(pid: $0)?.seccomp == 2 }
        })
        let reaper = try #require(ProcStatus.read(pid: ff.reaperPID))
        #expect(reaper.uid == [65534, 65534, 65534, 65534])
        #expect(reaper.capEff == 0 && reaper.capBnd == 0)
        #expect(reaper.seccomp == 2 && reaper.noNewPrivs == 1)
        for pid in ff.children() {
            let argv0 = (cmdline(pid).first as NSString?)?.lastPathComponent ?? ""
            let s = try #require(ProcStatus.read(pid: pid))
            switch argv0 {
            case "flowforge-detector", "flowforge-api": #expect(s.seccomp == 2 && s.capEff == 0, "\(argv0)")
            default: #expect(s.seccomp == 0, "\(argv0)")
            }
        }
    }
}

/// `flowforge run` started through setpriv as an unprivileged user.
final class SupervisedAs {
    let process = Process()
    var reaperPID: Int32 { process.processIdentifier }

    init(uid: UInt32, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        // setpriv execs, so its PID becomes flowforge's and then the reaper's.
        process.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                             binDir + "/flowforge", "run"] + args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func children() -> [Int32] { childProcesses(of: reaperPID) }

    func stop() {
        kill(reaperPID, SIGTERM)
        if !eventually(timeout: 10, { !process.isRunning }) { kill(reaperPID, SIGKILL) }
    }
}
