// FlowForge — real processes, real signals: exit codes, passthrough, filters that bite, reaper death.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import FlowForgeSystem
import FlowForgeWire
import Testing

@Suite("Supervision with real processes", .serialized)
struct SupervisionTests {
    @Test(.timeLimit(.minutes(1)))
    func exitCodes() throws {
        let plain = try Supervised(["--", "sh", "-c", "exit 3"])
        #expect(plain.waitForExit())
        #expect(plain.exitCode == 3)

        let signaled = try Supervised(["--", "sh", "-c", "kill -9 $$"])
        #expect(signaled.waitForExit())
        let signaledCode = signaled.exitCode
        #expect(signaledCode == Int32(128 + 9), "reason \(signaled.process.terminationReason.rawValue)")

        let stopped = try Supervised(["--grace", "1", "--", "sh", "-c", "echo ready; exec sleep 60"])
        #expect(eventually { stopped.stdout.contains("ready") })
        stopped.signal(SIGINT)
        #expect(stopped.waitForExit())
        #expect(stopped.exitCode == 120, "FlowForge-terminated has its own code")
    }

    /// `--restart-on-exit on-failure`: a worker that fails twice and then succeeds runs three generations, and
    /// the run ends with the last one's code; `always` with quick exits meets the crash-loop guard (120).
    @Test(.timeLimit(.minutes(1)))
    func restartOnExit() throws {
        let dir = try makeTemporaryDirectory("ff-exit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = #"n=$(( $(cat "$0/count" 2>/dev/null || echo 0) + 1 )); echo $n > "$0/count"; echo "attempt $n"; [ $n -ge 3 ]"#
        let flaky = try Supervised(["--restart-on-exit", "on-failure", "--", "sh", "-c", script, dir])
        #expect(flaky.waitForExit())
        #expect(flaky.exitCode == 0, "\(flaky.stderr)")
        #expect(flaky.stdout.contains("attempt 3") && !flaky.stdout.contains("attempt 4"))
        let spool = try String(contentsOfFile: try #require(spoolPath(flaky)), encoding: .utf8)
        #expect(spool.components(separatedBy: #""kind":"worker.started""#).count - 1 == 3)
        #expect(flaky.stderr.contains("--restart-on-exit on-failure: starting it again"))

        let looping = try Supervised(["--restart-on-exit", "always", "--max-restarts", "2", "--", "sh", "-c", "exit 0"])
        #expect(looping.waitForExit(timeout: 30))
        #expect(looping.exitCode == 120, "crash-loop stopped: \(looping.stderr)")
        #expect(looping.stderr.contains("crash-loop guard: 2 restarts"))

        let never = try Supervised(["--", "sh", "-c", "exit 7"])
        #expect(never.waitForExit())
        #expect(never.exitCode == 7, "the default: the run ends with its worker")
    }

    private func spoolPath(_ ff: Supervised) -> String? {
        let runs = ff.dir + "/state/runs"
        return ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).first { $0.hasSuffix(".jsonl") }.map { runs + "/" + $0 }
    }

    @Test(.timeLimit(.minutes(1)))
    func usageErrorsStartNothing() throws {
        let missing = try Supervised(["--", "definitely-not-a-command-ff"])
        #expect(missing.waitForExit())
        #expect(missing.exitCode != 0)
        #expect(missing.stderr.contains("command not found"))

        let badGrace = try Supervised(["--grace", "-1", "--", "true"])
        #expect(badGrace.waitForExit())
        #expect(badGrace.stderr.contains("--grace"))
    }

    /// A fresh folder holding `blob`, 3 MiB of random bytes (the caller removes the folder).
    private func randomBlob(_ prefix: String) throws -> (dir: String, bytes: [UInt8]) {
        let dir = try makeTemporaryDirectory(prefix)
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/blob"))
        return (dir, bytes)
    }

    /// The passthrough is byte-exact and complete, per stream, even for binary data and a burst at exit.
    @Test(.timeLimit(.minutes(1)))
    func passthroughIsByteExact() throws {
        let (dir, bytes) = try randomBlob("ff-bytes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ff = try Supervised(["--log-level", "error", "--", "sh", "-c", "cat \(dir)/blob; printf 'tail-no-newline'"])
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 0)
        #expect(ff.stdoutData == Data(bytes) + Data("tail-no-newline".utf8))
        #expect(ff.stderr.isEmpty, "FlowForge printed into the passthrough: \(ff.stderr.prefix(200))")
    }

    /// The same through pipes (`flowforge run ... | next`): bytes beyond the detector's analysis budget move
    /// by splice, the rest through the reaper's copy path. Binary data, text lines and a binary burst again,
    /// back to back, must come out byte-exact and in order on each stream.
    @Test(.timeLimit(.minutes(1)))
    func passthroughThroughPipesIsByteExact() throws {
        let (dir, bytes) = try randomBlob("ff-pipes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "cat \(dir)/blob; seq 1 50000; seq 1 20000 >&2; cat \(dir)/blob; printf 'tail-no-newline'"
        let ff = try Supervised(["--log-level", "error", "--", "sh", "-c", script], pipes: true)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 0)
        let lines = (1...50000).map { "\($0)\n" }.joined()
        #expect(ff.stdoutData == Data(bytes) + Data(lines.utf8) + Data(bytes) + Data("tail-no-newline".utf8))
        #expect(ff.stderr == (1...20000).map { "\($0)\n" }.joined())
    }

    /// A reader that goes away (`flowforge run -- yes | head -c 100`) ends the worker as in a plain pipeline:
    /// the reaper closes the worker's pipe, the worker dies of SIGPIPE, FlowForge exits.
    @Test(.timeLimit(.minutes(1)))
    func closedReaderEndsTheRun() throws {
        let marker = Marker.make("epipe")
        let state = try makeTemporaryDirectory("ff-epipe")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = ["-c", "'\(binDir)/flowforge' run --log-level error -- yes | head -c 100 >/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["FLOWFORGE_STATE_DIR"] = state
        env[Marker.variable] = marker
        sh.environment = env
        sh.standardOutput = FileHandle.nullDevice
        sh.standardError = FileHandle.nullDevice
        try sh.run()
        defer { killMarked(marker) }
        #expect(eventually(timeout: 20) { !sh.isRunning }, "flowforge kept running after its reader went away")
        #expect(eventually { processes(withMarker: marker).isEmpty }, "nothing of the run is left")
    }

    /// Each agent's filter bites: an agent made (debug hook) to call mkdir dies of SIGSYS; the reaper logs
    /// it, survives, keeps the worker, and respawns the agent.
    @Test(.timeLimit(.minutes(1)), arguments: ["detector", "api"])
    func agentFilterBites(_ role: String) throws {
        let ff = try Supervised(["--", "sh", "-c", "echo ready; exec sleep 60"], env: ["FLOWFORGE_TEST_FORBIDDEN_SYSCALL": role])
        defer { ff.signal(SIGKILL) }
        #expect(eventually { ff.stdout.contains("ready") })
        let worker = try #require(ff.worker())
        #expect(eventually { ff.stderr.components(separatedBy: "\(role) agent").count > 2 && ff.stderr.contains("SIGSYS") },
                "no SIGSYS report: \(ff.stderr)")
        #expect(ff.process.isRunning, "the reaper survives an agent killed by its filter")
        #expect(isAlive(worker) && ff.worker() == worker, "the worker is untouched")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(!isAlive(worker))
    }

    /// The reaper's own filter bites: made (debug hook) to call mkdir after sandboxing, it dies of SIGSYS,
    /// and its worker does not outlive it.
    @Test(.timeLimit(.minutes(1)))
    func reaperFilterBites() throws {
        let ff = try Supervised(["--", "sleep", "60"], env: ["FLOWFORGE_TEST_FORBIDDEN_SYSCALL": "reaper"])
        #expect(ff.waitForExit())
                #expect(ff.exitCode == 1000 + SIGSYS, "killed by SIGSYS (reported as 1000 + signal)")
    }

    /// `--log-format json`: every line FlowForge itself writes is one JSON object with stable keys.
    @Test(.timeLimit(.minutes(1)))
    func jsonLogLines() throws {
        let ff = try Supervised(["--log-format", "json", "--", "sh", "-c", "echo ready; exec sleep 60"],
                                env: ["FLOWFORGE_TEST_FORBIDDEN_SYSCALL": "api"])
        defer { ff.signal(SIGKILL) }
        #expect(eventually { ff.stderr.contains("SIGSYS") })
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        let lines = ff.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil, "not JSON: \(line)")
            for key in ["ts", "level", "component", "pid", "msg"] { #expect(object?[key] != nil, "\(key) missing: \(line)") }
        }
    }

    /// SIGKILL of the reaper: agents exit within a second (channel EOF / PDEATHSIG), the worker leader dies
    /// (PDEATHSIG), and with cgroups nothing of the tree survives (the spawner kills the cgroup on EOF).
    @Test(.timeLimit(.minutes(1)))
    func reaperSIGKILLLeavesNothing() throws {
        let marker = Marker.make("reaper-kill")
        let ff = try Supervised(["--", "sh", "-c", "sleep 60 & setsid sleep 60 & echo ready; wait"], marker: marker)
        defer { killMarked(marker) }
        #expect(eventually { ff.stdout.contains("ready") && ff.child(named: "flowforge-api") != nil && ff.child(named: "flowforge-detector") != nil })
        let agents = [ff.child(named: "flowforge-detector")!, ff.child(named: "flowforge-api")!]
        let worker = try #require(ff.worker())
        #expect(processes(withMarker: marker).count >= 3) // the tree, plus the reaper and spawner that carry the environment
        ff.signal(SIGKILL)
        #expect(ff.waitForExit())
        #expect(eventually(timeout: 1.5) { agents.allSatisfy { !isAlive($0) } }, "agents outlived the reaper")
        #expect(eventually(timeout: 1.5) { !isAlive(worker) }, "the worker leader outlived the reaper")
        if cgroupsUsable {
            #expect(eventually(timeout: 3) { processes(withMarker: marker).isEmpty }, "survivors: \(processes(withMarker: marker))")
        }
    }

    /// Garbage from an agent never crashes the reaper: it drops and respawns that agent, the worker runs on.
    @Test(.timeLimit(.minutes(1)))
    func malformedAgentFramesRestartTheAgent() throws {
        let ff = try Supervised(["--", "sh", "-c", "echo ready; exec sleep 60"], env: ["FLOWFORGE_TEST_AGENT_GARBAGE": "api"])
        defer { ff.signal(SIGKILL) }
        #expect(eventually { ff.stdout.contains("ready") })
        let worker = try #require(ff.worker())
        #expect(eventually { ff.stderr.contains("protocol violation") }, "\(ff.stderr)")
        #expect(eventually { ff.stderr.components(separatedBy: "protocol violation").count > 3 }, "the agent was respawned and dropped again")
        #expect(ff.process.isRunning)
        #expect(ff.worker() == worker)
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 120)
    }

    /// Well-formed but hostile messages from either agent (forged run events, impossible generations and
    /// times, incidents never opened, the reaper's own `seq`, a flood) are dropped and counted: the reaper
    /// keeps running, the worker is untouched, the agent stays connected, the events file holds none of them.
    @Test(.timeLimit(.minutes(1)), arguments: ["api", "detector"])
    func hostileAgentEventsAreDroppedAndCounted(role: String) throws {
        let events = NSTemporaryDirectory() + "ff-hostile-\(role)-\(UUID().uuidString.prefix(8)).jsonl"
        defer { unlink(events) }
        let ff = try Supervised(["--events", events, "--", "sh", "-c", "echo ready; exec sleep 60"],
                                env: ["FLOWFORGE_TEST_AGENT_HOSTILE": role])
        defer { ff.signal(SIGKILL) }
        #expect(eventually { ff.stdout.contains("ready") })
        let worker = try #require(ff.worker())
        #expect(eventually { readEvents(events).contains { $0["kind"] as? String == "agent.rejected" } }, "\(ff.stderr)")
        // The agent goes on sending for a while: the reaper and the worker must come through it (the totals are
        // checked after the run, when the reaper has written its last agent.rejected).
        #expect(consistently(for: 0.3) { ff.process.isRunning && ff.worker() == worker })
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 120)
        #expect(!ff.stderr.contains("protocol violation"), "well-formed messages do not cost the agent its channel")
        let all = readEvents(events)
        let forged = all.filter { (($0["fields"] as? [String: Any])?["forged"] as? String) == "hostile-agent" }
        #expect(forged.isEmpty, "\(forged)")
        let flood = all.filter { (($0["fields"] as? [String: Any])?["forged"] as? String) == "hostile-flood" }
        // The gate's token bucket: 128 at once, then 32 a second. A flood that reaches the reaper over a longer
        // stretch (a loaded machine) earns the refill of that stretch, measured with the reaper's own stamps.
        let floodTimes = flood.compactMap { ($0["ts"] as? String).flatMap(Event.parseRFC3339) }
        let floodSpan = Double((floodTimes.max() ?? 0) - (floodTimes.min() ?? 0)) / 1e9
        let allowed = role == "api" ? 0 : 128 + Int((32 * floodSpan).rounded(.up))
        #expect(flood.count <= allowed, "flood samples recorded: \(flood.count) over \(floodSpan) s (allowed \(allowed))")
        #expect(all.filter { $0["kind"] as? String == "worker.exited" }.count == 1)
        let rejected = all.filter { $0["kind"] as? String == "agent.rejected" }.compactMap { $0["fields"] as? [String: Any] }
        #expect(rejected.allSatisfy { $0["agent"] as? String == role })
        let dropped = rejected.compactMap { Int($0["dropped"] as? String ?? "") }.reduce(0, +)
        let reasons = rejected.compactMap { $0["reasons"] as? String }.joined(separator: ",")
        if role == "api" {
            #expect(dropped == 2006, "\(rejected)")
            #expect(reasons.contains("kind="))
        } else {
            #expect(dropped >= 2006 - allowed, "\(rejected)")
            for reason in ["kind", "generation", "incident", "field", "rate"] { #expect(reasons.contains(reason + "="), "\(reasons)") }
        }
        // Every recorded time is the reaper's: within this test's lifetime.
        let stamps = all.compactMap { $0["ts"] as? String }
        #expect(stamps.allSatisfy { $0.hasPrefix("20") }, "\(Set(stamps.map { $0.prefix(4) }))")
    }

    /// Teardown reaches a setsid() escapee and a child that ignores SIGTERM, and removes the cgroup.
    @Test(.timeLimit(.minutes(1)))
    func teardownReachesEscapeesAndRemovesCgroup() throws {
        let marker = Marker.make("teardown")
        let ff = try Supervised(["--grace", "0.5", "--", "sh", "-c", "(trap '' TERM; sleep 60) & setsid sleep 60 & echo ready; wait"],
                                marker: marker)
        defer { killMarked(marker) }
        #expect(eventually { ff.stdout.contains("ready") && processes(withMarker: marker).count >= 4 })
        let cgroupDir = Cgroup.parentDirectory().map { $0 + "/" + Cgroup.workerName(reaperPID: ff.pid, generation: 1) }
        if cgroupsUsable, let dir = cgroupDir {
            #expect(FileManager.default.fileExists(atPath: dir))
            // The worker started inside its generation's cgroup (CLONE_INTO_CGROUP), so its whole tree is there.
            // (The marker is in FlowForge's own environment too: the reaper and the spawner stay outside.)
            let helpers = Set([ff.pid] + ff.children().filter { cmdline($0).first.map { ($0 as NSString).lastPathComponent } == "flowforge-reaper" })
            let tree = processes(withMarker: marker).filter { !helpers.contains($0) }
            #expect(tree.count >= 3)
            for pid in tree {
                let line = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8))?
                    .split(separator: "\n").first { $0.hasPrefix("0::") } ?? ""
                #expect(line.hasSuffix("/" + Cgroup.workerName(reaperPID: ff.pid, generation: 1)), "pid \(pid) is in \(line)")
            }
        }
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(processes(withMarker: marker).isEmpty, "survivors: \(processes(withMarker: marker))")
        if let dir = cgroupDir { #expect(!FileManager.default.fileExists(atPath: dir), "cgroup left behind") }
    }
}
