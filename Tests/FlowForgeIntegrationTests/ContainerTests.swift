// FlowForge — as a container entry point: PID 1 of its own PID namespace, as root and rootless (issue 12,
// item 7). Real namespaces from unshare(1), read from the host's /proc.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeTestSupport
import Foundation
import Testing

/// What the host can do: unshare and setpriv installed, and user namespaces allowed for the rootless case.
private let canUnshare = isRoot && onPath("unshare") && onPath("setpriv")
private let userNamespacesAllowed = (FileIO.readText("/proc/sys/user/max_user_namespaces")
    .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0) > 0

@Suite("Containers: PID 1 in a PID namespace", .serialized)
struct ContainerTests {
    /// `unshare --pid --fork --mount-proc flowforge run` as root: the container's PID 1 is the reaper.
    /// Also: a host run beside it keeps its worker. The container's reaper sweeps stale worker cgroups when it
    /// starts, and it shares the host's cgroup hierarchy; it used to read the host reaper's PID in its own PID
    /// namespace, find no such process, and kill the host run's cgroup (CI lost a demo run that way).
    @Test(.timeLimit(.minutes(2)), .enabled(if: canUnshare))
    func rootIsPIDOneOfItsNamespace() throws {
        let host = try Supervised(["--", "sleep", "120"])
        defer { host.signal(SIGKILL) }
        var worker: Int32?
        #expect(eventually { worker = host.worker(); return worker != nil })
        try drill(rootless: false)
        #expect(host.process.isRunning && worker.map(isAlive) == true, "the container's reaper killed a host run: \(host.stderr)")
        host.signal(SIGTERM)
        #expect(host.waitForExit())
    }

    /// The same as an unprivileged user (uid 4242) in a user namespace that maps only that uid to 0, as rootless
    /// Podman or `docker run --user` with userns remapping does: no writable cgroup, no `nobody` to switch to,
    /// `setgroups` denied. The agents stay this namespace's uid 0 (4242 on the host), drop every capability and
    /// run their filters; they must not crash-loop (they did: setgroups failed, the reaper respawned them).
    @Test(.timeLimit(.minutes(2)), .enabled(if: canUnshare && userNamespacesAllowed))
    func rootlessInAUserNamespace() throws {
        try drill(rootless: true)
    }

    /// Starts a run whose worker ignores SIGTERM and leaves an orphan and a `setsid` escapee, lets the debug
    /// build's restart hook replace generation 1, and checks, from the host: generation 1's whole tree is gone
    /// while the reaper (PID 1 of the namespace, so not the kernel's namespace teardown) lives on; every
    /// FlowForge process is hardened; SIGTERM to PID 1 ends the run with 120 and leaves nothing behind.
    private func drill(rootless: Bool) throws {
        let uid: UInt32 = rootless ? 4242 : 0
        let dir = try makeTemporaryDirectory("ff-ctr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        if rootless { try FileManager.default.setAttributes([.ownerAccountID: uid, .groupOwnerAccountID: uid], ofItemAtPath: dir) }
        let marker = Marker.make("ctr")
        defer { killMarked(marker) }
        // Each generation tags its tree: FF_GEN=<marker>-gen<N>.
        let script = """
            n=$(( $(cat "$FF_CTR_DIR/count" 2>/dev/null || echo 0) + 1 )); echo $n > "$FF_CTR_DIR/count"
            export FF_GEN=$FLOWFORGE_DRILL_MARKER-gen$n
            trap "" TERM
            setsid sh -c 'trap "" TERM; exec sleep 300' &
            (sleep 300 &)
            exec sleep 300
            """
        let flowforge = [binDir + "/flowforge", "run", "--grace", "1", "--name", "ctr", "--", "sh", "-c", script]
        let unshare = ["/usr/bin/unshare"] + (rootless ? ["--user", "--map-root-user"] : []) + ["--pid", "--fork", "--mount-proc"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = (rootless ? ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"] : ["--"]) + unshare + flowforge
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": dir, "FLOWFORGE_STATE_DIR": dir, "FF_CTR_DIR": dir,
                               "FLOWFORGE_TEST_REQUEST_RESTART": "1", Marker.variable: marker]
        let stderrPath = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func stderr() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        func generation(_ n: Int) -> [Int32] { processes(withEnvironment: "FF_GEN", "\(marker)-gen\(n)") }

        // The reaper: the marked process that is PID 1 of its namespace (once the CLI has exec'd it).
        var reaper: Int32 = 0
        #expect(eventually(timeout: 20) {
            reaper = processes(withMarker: marker).first { namespacePIDs($0).count > 1 && namespacePIDs($0).last == 1 } ?? 0
            return reaper != 0 && cmdline(reaper).first == "flowforge-reaper"
        }, "no reaper as PID 1: \(stderr())")

        // Generation 2 runs (worker, escapee, orphan) and nothing of generation 1 is left, with PID 1 alive.
        #expect(eventually(timeout: 30) { generation(2).count == 3 }, "generation 2 never ran its tree: \(stderr())")
        #expect(generation(1).isEmpty, "generation 1 survived its teardown: \(generation(1).map(cmdline))")
        #expect(isAlive(reaper))

        // Hardened, read from the host.
        let r = try #require(ProcStatus.read(pid: reaper))
        #expect(r.seccomp == 2 && r.noNewPrivs == 1 && r.capInh == 0 && r.capAmb == 0)
        #expect(r.capEff == 1 << 5, "the reaper keeps CAP_KILL (of its namespace when rootless)")
        #expect(r.uid == [uid, uid, uid, uid])
        var agents: [String: Int32] = [:]
        #expect(eventually {
            agents = [:]
            for pid in childProcesses(of: reaper) {
                let name = (cmdline(pid).first as NSString?)?.lastPathComponent ?? ""
                if name == "flowforge-detector" || name == "flowforge-api" { agents[name] = pid }
            }
            return agents.count == 2 && agents.values.allSatisfy { ProcStatus.read(pid: $0)?.seccomp == 2 }
        }, "agents: \(agents) \(stderr())")
        for (name, pid) in agents {
            let s = try #require(ProcStatus.read(pid: pid))
            #expect(s.seccomp == 2 && s.noNewPrivs == 1, "\(name)")
            #expect(s.capEff == 0 && s.capPrm == 0 && s.capInh == 0 && s.capAmb == 0 && s.capBnd == 0, "\(name)")
            // Root switches them to nobody; rootless they keep the namespace's uid 0, the caller outside.
            let expected: UInt32 = rootless ? uid : 65534
            #expect(s.uid == [expected, expected, expected, expected], "\(name)")
        }
        let worker = try #require(generation(2).first { cmdline($0).first == "sleep" && ProcStatus.read(pid: $0)?.ppid == reaper })
        #expect(ProcStatus.read(pid: worker)?.seccomp == 0, "the worker is not filtered")

        // The teardown mechanism the run reports: rootless there is no cgroup to use, and the run says so.
        let spool = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/runs").first { $0.hasSuffix(".jsonl") })
        let events = try String(contentsOfFile: dir + "/runs/" + spool, encoding: .utf8)
        let mechanism = events.split(separator: "\n").first { $0.contains(#""kind":"teardown.mechanism""#) } ?? ""
        #expect(rootless ? mechanism.contains(#""mechanism":"pgid+scan""#) : mechanism.contains("cgroup"), "\(mechanism)")

        // The container stops: SIGTERM to PID 1.
        kill(reaper, SIGTERM)
        #expect(eventually(timeout: 20) { !process.isRunning }, "PID 1 did not exit: \(stderr())")
        process.waitUntilExit()
        #expect(process.terminationStatus == 120)
        #expect(processes(withMarker: marker).isEmpty, "left behind: \(processes(withMarker: marker).map(cmdline))")

        let log = stderr()
        #expect(!log.contains("respawning"), "an agent crash-looped: \(log)")
        #expect(!log.contains("cannot sandbox"), "\(log)")
        #expect(log.contains("is not mapped in this user namespace") == rootless, "\(log)")
    }
}

/// `NSpid` of `/proc/PID/status`: the process's PID in each PID namespace it is in, outermost first.
private func namespacePIDs(_ pid: Int32) -> [Int32] {
    guard let text = FileIO.readText("/proc/\(pid)/status"),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { return [] }
    return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) }
}

@Suite struct UserNamespaceTests {
    @Test func mapsReadAsTheKernelWritesThem() {
        let initial = UserNamespace(uidMap: UserNamespace.parseMap("         0          0 4294967295\n"),
                                    gidMap: UserNamespace.parseMap("         0          0 4294967295\n"), setgroupsAllowed: true)
        #expect(initial.isInitial && initial.maps(uid: 65534) && initial.maps(uid: UInt32.max - 1))
        // unshare --user --map-root-user as uid 4242: only 0 is mapped, setgroups denied.
        let rootless = UserNamespace(uidMap: UserNamespace.parseMap("0 4242 1\n"), gidMap: UserNamespace.parseMap("0 4242 1\n"),
                                     setgroupsAllowed: false)
        #expect(!rootless.isInitial && rootless.maps(uid: 0) && !rootless.maps(uid: 1) && !rootless.maps(uid: 65534))
        #expect(rootless.outsideUID(0) == 4242 && rootless.outsideUID(65534) == nil)
        // Subordinate ids (rootless Podman): 0 is the caller, 1-65536 a subuid range; nobody is mapped.
        let podman = UserNamespace.parseMap("0 1000 1\n1 100000 65536\n")
        #expect(UserNamespace(uidMap: podman, gidMap: podman, setgroupsAllowed: true).outsideUID(65534) == 165533)
        #expect(UserNamespace.parseMap("garbage\n1 2\n\n4 5 6 7\n").isEmpty)
    }

    /// Worker cgroups carry the PID namespace they were named in.
    @Test func cgroupNamesCarryThePIDNamespace() throws {
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid") // pid:[4026531836]
        let inode = link.filter(\.isNumber)
        #expect(!inode.isEmpty && CurrentProcess.pidNamespace == UInt64(inode))
        #expect(Cgroup.workerName(reaperPID: 42, generation: 3) == "flowforge-\(inode)-42-g3")
    }

    /// This test process's own namespace, read from /proc (the host's, when tests run outside a container).
    @Test func currentIsReadable() {
        let current = UserNamespace.current()
        #expect(!current.uidMap.isEmpty && current.maps(uid: CurrentProcess.effectiveUserID))
    }
}
