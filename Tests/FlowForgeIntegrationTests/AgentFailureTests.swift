// FlowForge — a hung or stopped agent never blocks the worker or its output, and is replaced.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import FlowForgeSystem
import Testing

@Suite("Agent failures", .serialized)
struct AgentFailureTests {
    /// The detector is frozen (SIGSTOP) while the worker writes 64 MiB: the passthrough stays complete and
    /// byte-exact (the analysis copy drops instead of waiting), and after its silence limit the reaper kills
    /// and respawns the frozen detector.
    @Test(.timeLimit(.minutes(1)))
    func frozenDetectorBlocksNothingAndIsReplaced() throws {
        let dir = try makeTemporaryDirectory("ff-frozen")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "while [ ! -e \(dir)/go ]; do sleep 0.05; done; head -c 67108864 /dev/zero | tr '\\0' 'x'; echo done; exec sleep 60"
        let ff = try Supervised(["--log-level", "warn", "--", "sh", "-c", script])
        defer { ff.signal(SIGKILL) }
        #expect(eventually { ff.child(named: "flowforge-detector") != nil && ff.worker() != nil })
        let detector = try #require(ff.child(named: "flowforge-detector"))
        kill(detector, SIGSTOP)
        #expect(FileManager.default.createFile(atPath: dir + "/go", contents: nil))
        #expect(eventually(timeout: 30) { ff.stdoutData.count >= 67_108_864 + 5 }, "passthrough stalled at \(ff.stdoutData.count) bytes")
        let out = ff.stdoutData
        #expect(out.count == 67_108_864 + 5)
        #expect(out.prefix(67_108_864).allSatisfy { $0 == UInt8(ascii: "x") } && out.suffix(5) == Data("done\n".utf8))
        // Silence limit is 10 s; allow for a loaded machine.
        #expect(eventually(timeout: 20) { ff.child(named: "flowforge-detector").map { $0 != detector } ?? false },
                "the frozen detector was not replaced: \(ff.stderr)")
        #expect(ff.stderr.contains("hung"))
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 120)
    }

    /// A dead spawner is not a dead worker: after SIGKILL to the spawner the worker keeps running, the run
    /// records `supervisor.degraded`, and a teardown still reaches the worker's whole group. (That a restart
    /// request then becomes a stop is ReaperStateMachineTests.degradedRestartBecomesStop.)
    @Test(.timeLimit(.minutes(1)))
    func deadSpawnerIsNotADeadWorker() throws {
        let events = NSTemporaryDirectory() + "ff-spawner-\(UUID().uuidString.prefix(8)).jsonl"
        defer { unlink(events) }
        let marker = Marker.make("spawner-lost")
        let ff = try Supervised(["--events", "\(events)", "--", "sh", "-c", "sleep 60 & echo ready; wait"], marker: marker)
        defer { ff.signal(SIGKILL); killMarked(marker) }
        #expect(eventually { ff.stdout.contains("ready") })
        let worker = try #require(ff.worker())
        let spawner = try #require(ff.child(named: "flowforge-reaper"))
        kill(spawner, SIGKILL)
        #expect(eventually { readEvents(events).contains { $0["kind"] as? String == "supervisor.degraded" } }, "\(ff.stderr)")
        #expect(consistently(for: 0.5) { ff.process.isRunning && ff.worker() == worker && kill(worker, 0) == 0 },
                "the reaper keeps supervising, the worker keeps running")
        #expect(!readEvents(events).contains { $0["kind"] as? String == "teardown.started" })
        // SIGTERM still tears the whole tree down (group signal; no /proc scan without the spawner).
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 120)
        #expect(eventually(timeout: 3) { processes(withMarker: marker).isEmpty }, "survivors: \(processes(withMarker: marker))")
    }

    /// The degraded state is visible where operators look: `/runs` marks the run, `/metrics` counts it.
    @Test(.timeLimit(.minutes(1)))
    func degradedRunShowsInRunsAndMetrics() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let spawner = try #require(run.ff.child(named: "flowforge-reaper"))
        #expect((try run.request("GET", "/runs").json()).array?.first?["degraded"] == nil)
        kill(spawner, SIGKILL)
        #expect(eventually { (try? run.request("GET", "/runs").json())?.array?.first?["degraded"] == .bool(true) })
        let runID = try #require(run.runID)
        #expect(try run.metrics().first("flowforge_supervisor_degraded_total", ["run": runID])?.value == 1)
        #expect(run.worker() != nil, "the worker runs on")
    }

    /// `--user` runs the worker under another identity (root only).
    @Test(.timeLimit(.minutes(1)), .enabled(if: isRoot))
    func workerRunsAsRequestedUser() throws {
        let ff = try Supervised(["--user", "nobody", "--agent-user", "daemon", "--", "sh", "-c", "id -u; id -g"])
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 0)
        #expect(ff.stdout == "65534\n65534\n")
        let grouped = try Supervised(["--user", "nobody", "--group", "0", "--agent-user", "daemon", "--", "sh", "-c", "id -u; id -g"])
        #expect(grouped.waitForExit())
        #expect(grouped.stdout == "65534\n0\n")
    }

    /// A Python worker block-buffers stdout on a pipe unless told otherwise; FlowForge sets
    /// PYTHONUNBUFFERED=1 so its output (and the detector's copy) arrives while it still runs.
    @Test(.timeLimit(.minutes(1)), .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || onPath("python3")))
    func pythonOutputArrivesPromptly() throws {
        let ff = try Supervised(["--", "python3", "-c", "import time\nprint('first line')\ntime.sleep(30)"])
        defer { ff.signal(SIGKILL) }
        #expect(eventually(timeout: 5) { ff.stdout == "first line\n" }, "output held back: '\(ff.stdout)'")
        // The opt-out's worker says `started` on stderr (unbuffered in Python 3.9+) after its print: from then on
        // its stdout line sits in Python's buffer, and stays there while it sleeps.
        let optOut = try Supervised(["--no-python-unbuffered", "--", "python3", "-c",
                                     "import sys, time\nprint('held')\nprint('started', file=sys.stderr)\ntime.sleep(30)"])
        defer { optOut.signal(SIGKILL) }
        #expect(eventually(timeout: 5) { optOut.stderr.contains("started") }, "the opt-out's worker never started: \(optOut.stderr)")
        #expect(consistently(for: 1) { optOut.stdout.isEmpty }, "with the opt-out, Python's own block buffering is visible")
    }
}
