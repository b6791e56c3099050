// FlowForge — runaway detection and actions with real workers: shadow, canary, kill, log, crash loops.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

/// A worker that loops on one step while burning a core, in every generation.
let spinningWorker = ["sh", "-c", "while :; do echo 'step 3: retrying tool call search(query=TODO)'; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; done"]
/// Fast detection settings for tests. --max-cpu 50: test suites run side by side on two cores, so a spinning
/// worker may get only part of a core; the detection logic under test is the same at any threshold.
let fast = ["--max-cpu", "50", "--sustain", "2", "--sample-interval", "0.25", "--recovery-window", "1", "--grace", "1",
            "--log-level", "warn"]

/// The events a run wrote, parsed.
func readEvents(_ path: String) -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
}

func kinds(_ events: [[String: Any]]) -> [String] { events.compactMap { $0["kind"] as? String }.filter { $0 != "sample" } }

func fields(_ e: [String: Any]) -> [String: Any] { e["fields"] as? [String: Any] ?? [:] }

@Suite("Runaway detection with real workers", .serialized)
struct DetectionTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "ff-detect-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// Issue 13, item 1: a deadlocked Python worker (a lock taken twice: no output, no CPU, no I/O) is stopped
    /// as `stalled` after --stall-timeout; one that waits just as long but prints a heartbeat is left alone.
    @Test(.timeLimit(.minutes(1)))
    func deadlockedWorkerIsStalledAndAWaitingOneWithAHeartbeatIsNot() throws {
        let events = dir + "/stall.jsonl"
        let deadlock = "import threading\nlock = threading.Lock()\nlock.acquire()\nprint('took the lock', flush=True)\nlock.acquire()\n"
        let stalled = try Supervised(["--stall-timeout", "3", "--on-runaway", "kill", "--grace", "1", "--events", events,
                                      "--", "python3", "-c", deadlock])
        defer { stalled.signal(SIGKILL) }
        #expect(stalled.waitForExit(timeout: 30), "\(stalled.stderr)")
        #expect(stalled.exitCode == 120)
        let opened = try #require(readEvents(events).first { $0["kind"] as? String == "incident.opened" })
        #expect(fields(opened)["verdict"] as? String == "stalled", "\(fields(opened))")
        #expect((fields(opened)["reason"] as? String)?.hasPrefix("stalled: no output for") == true)

        let waiting = "import time\nwhile True:\n    print('waiting for the upstream API', flush=True)\n    time.sleep(1)\n"
        let healthy = try Supervised(["--stall-timeout", "3", "--on-runaway", "kill", "--", "python3", "-c", waiting])
        defer { healthy.signal(SIGKILL) }
        #expect(consistently(for: 8) { healthy.process.isRunning }, "a worker with a heartbeat was stopped: \(healthy.stderr)")
        healthy.signal(SIGTERM)
        #expect(healthy.waitForExit())
    }

    /// Issue 13, item 3: a worker leaking 20 MiB a second against --max-memory 200M is stopped gracefully
    /// (SIGTERM, the kernel's OOM killer never involved) as `memory`; one holding 100 MiB steady is left alone.
    @Test(.timeLimit(.minutes(1)))
    func leakingWorkerIsStoppedAtItsMemoryLimitAndASteadyOneIsNot() throws {
        let events = dir + "/memory.jsonl"
        let leak = "import time\nkeep = []\nwhile True:\n    keep.append(bytearray(b'x') * (2 << 20))\n    print(len(keep) * 2, 'MiB', flush=True)\n    time.sleep(0.1)\n"
        let leaking = try Supervised(["--max-memory", "200M", "--sustain", "2", "--on-runaway", "kill", "--grace", "2", "--events", events,
                                      "--", "python3", "-c", leak])
        defer { leaking.signal(SIGKILL) }
        #expect(leaking.waitForExit(timeout: 40), "\(leaking.stderr)")
        #expect(leaking.exitCode == 120)
        let all = readEvents(events)
        let opened = try #require(all.first { $0["kind"] as? String == "incident.opened" })
        #expect(fields(opened)["verdict"] as? String == "memory", "\(fields(opened))")
        let memory = fields(opened)["memory_bytes"] as? Double ?? 0
        #expect(memory > 200 * 1_048_576 && memory < 400 * 1_048_576, "stopped soon after the limit: \(memory)")
        // Stopped by FlowForge's SIGTERM, not by SIGKILL (the OOM killer's signal) or escalation.
        let exited = try #require(all.first { $0["kind"] as? String == "worker.exited" })
        #expect(fields(exited)["signal"] as? Int == 15, "\(fields(exited))")
        #expect(!kinds(all).contains("teardown.escalated"))

        let steady = "import time\nkeep = bytearray(b'x') * (100 << 20)\nwhile True:\n    print('holding', len(keep) >> 20, 'MiB', flush=True)\n    time.sleep(0.5)\n"
        let healthy = try Supervised(["--max-memory", "200M", "--sustain", "2", "--on-runaway", "kill", "--", "python3", "-c", steady])
        defer { healthy.signal(SIGKILL) }
        #expect(consistently(for: 8) { healthy.process.isRunning }, "a worker under its limit was stopped: \(healthy.stderr)")
        healthy.signal(SIGTERM)
        #expect(healthy.waitForExit())
    }

    /// Issue 13, item 2: a worker that pings the watchdog through the real `systemd-notify` binary and then
    /// stops is stopped as `watchdog`; one that keeps pinging is left alone, and a WATCHDOG=trigger from a
    /// process outside its tree (another user, still alive) is refused.
    @Test(.timeLimit(.minutes(1)), .enabled(if: onPath("systemd-notify")))
    func watchdogThroughSystemdNotify() throws {
        let events = dir + "/watchdog.jsonl"
        let stops = "systemd-notify --ready --status='serving'; for i in 1 2 3; do systemd-notify WATCHDOG=1; sleep 0.5; done; echo stopped pinging; sleep 60"
        let silent = try Supervised(["--watchdog", "3", "--on-runaway", "kill", "--grace", "1", "--events", events, "--", "sh", "-c", stops])
        defer { silent.signal(SIGKILL) }
        #expect(silent.waitForExit(timeout: 30), "\(silent.stderr)")
        #expect(silent.exitCode == 120)
        let all = readEvents(events)
        #expect(all.contains { $0["kind"] as? String == "worker.notify" && fields($0)["ready"] as? String == "1" && fields($0)["status"] as? String == "serving" },
                "READY=1 and STATUS= were recorded: \(kinds(all))")
        let opened = try #require(all.first { $0["kind"] as? String == "incident.opened" })
        #expect(fields(opened)["verdict"] as? String == "watchdog", "\(fields(opened))")
        #expect(silent.stdout.contains("stopped pinging"), "the incident came after the pings stopped")

        // A 4 s timeout against pings every 0.5 s: room for a loaded machine that is slow to start systemd-notify.
        let pings = "systemd-notify --ready; while :; do systemd-notify WATCHDOG=1; sleep 0.5; done"
        let healthy = try Supervised(["--watchdog", "4", "--on-runaway", "kill", "--log-level", "warn", "--", "sh", "-c", pings])
        defer { healthy.signal(SIGKILL) }
        let runs = healthy.dir + "/state/runs"
        var runID = ""
        #expect(eventually {
            runID = ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).first { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) } ?? ""
            return !runID.isEmpty
        })
        // Outside the tree: uid 4242, alive while its message is read.
        if isRoot && onPath("setpriv") {
            let outsider = Process()
            outsider.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            outsider.arguments = ["--reuid=4242", "--regid=4242", "--clear-groups", "/usr/bin/python3", "-c",
                                  "import socket, time; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b'WATCHDOG=trigger', '\\0flowforge/\(runID)/notify'); time.sleep(2)"]
            try outsider.run()
            outsider.waitUntilExit()
            #expect(outsider.terminationStatus == 0)
            #expect(eventually { healthy.stderr.contains("refused 1 message(s) from outside the worker's tree") }, "\(healthy.stderr)")
        }
        #expect(consistently(for: 6) { healthy.process.isRunning }, "a worker that pings was stopped: \(healthy.stderr)")
        healthy.signal(SIGTERM)
        #expect(healthy.waitForExit())
    }

    /// FlowForge under systemd with Type=notify and WatchdogSec (a stand-in service manager: a datagram socket
    /// at NOTIFY_SOCKET, WATCHDOG_USEC=1 s): the worker's READY=1 and STATUS= reach it, and FlowForge pings its
    /// watchdog every half second; the worker never sees FlowForge's NOTIFY_SOCKET.
    @Test(.timeLimit(.minutes(1)), .enabled(if: onPath("systemd-notify")))
    func readinessAndWatchdogReachFlowForgesServiceManager() throws {
        let socket = dir + "/manager.sock", received = dir + "/manager.log"
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        listener.arguments = ["-c", """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(0.2)
            end = time.time() + 8
            with open(sys.argv[2], 'a') as out:
                while time.time() < end:
                    try: out.write(s.recv(4096).decode() + '\\n---\\n'); out.flush()
                    except socket.timeout: pass
            """, socket, received]
        try listener.run()
        defer { listener.terminate() }
        #expect(eventually { FileManager.default.fileExists(atPath: socket) })
        let ff = try Supervised(["--log-level", "warn", "--", "sh", "-c", "echo \"worker sees $NOTIFY_SOCKET\"; systemd-notify --ready --status=serving; sleep 60"],
                                env: ["NOTIFY_SOCKET": socket, "WATCHDOG_USEC": "1000000"])
        defer { ff.signal(SIGKILL) }
        func log() -> String { (try? String(contentsOfFile: received, encoding: .utf8)) ?? "" }
        #expect(eventually(timeout: 6) { log().contains("READY=1\nSTATUS=serving") }, "\(log()) \(ff.stderr)")
        #expect(eventually(timeout: 6) { log().components(separatedBy: "WATCHDOG=1").count - 1 >= 3 }, "\(log())")
        #expect(ff.stdout.contains("worker sees @flowforge/"), "\(ff.stdout)")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
    }

    @Test(.timeLimit(.minutes(1)))
    func demoPrintsTheReleaseGateLines() throws {
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        demo.arguments = ["demo", "--events", dir + "/demo.jsonl"]
        let pipe = Pipe()
        demo.standardOutput = pipe
        demo.standardError = FileHandle.nullDevice
        let started = Date()
        try demo.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        demo.waitUntilExit()
        #expect(demo.terminationStatus == 0, "\(out)")
        #expect(out.contains("Runaway detected in flowforge demo-worker"))
        #expect(out.range(of: #"CPU peaked at \d+%"#, options: .regularExpression) != nil)
        #expect(out.contains("Process recovered"))
        #expect(Date().timeIntervalSince(started) < 20, "the demo must finish within 20 s")
    }

    /// Shadow mode: the same detection and incident as enforce, but the worker is untouched and the
    /// would-be action is recorded and printed loudly.
    @Test(.timeLimit(.minutes(1)))
    func shadowModeRecordsWouldRestartAndLeavesTheWorker() throws {
        let events = dir + "/shadow.jsonl"
        let ff = try Supervised(["--shadow-mode", "--events", events] + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        #expect(eventually(timeout: 20) { kinds(readEvents(events)).contains("policy.decision") }, "\(ff.stderr)")
        let worker = try #require(ff.worker())
        let all = readEvents(events)
        let decision = try #require(all.first { $0["kind"] as? String == "policy.decision" })
        #expect(fields(decision)["decision"] as? String == "would_restart")
        #expect(fields(decision)["enforced"] as? String == "false")
        #expect(kinds(all).contains("incident.opened"))
        #expect(!kinds(all).contains("teardown.started"))
        #expect(ff.stderr.contains("SHADOW"))
        #expect(consistently(for: 0.5) { ff.worker() == worker && isAlive(worker) }, "shadow mode never touches the worker")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
    }

    /// Canary: the draw and its seed are recorded; 0% never enforces, 100% always does.
    @Test(.timeLimit(.minutes(1)), arguments: [0, 100])
    func canaryDrawIsRecordedAndHonoured(_ percent: Int) throws {
        let events = dir + "/canary-\(percent).jsonl"
        let ff = try Supervised(["--policy-rollout", "canary", "--policy-canary-percent", "\(percent)", "--events", events]
                                + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        #expect(eventually(timeout: 20) { kinds(readEvents(events)).contains("policy.decision") }, "\(ff.stderr)")
        let all = readEvents(events)
        let policy = try #require(all.first { $0["kind"] as? String == "run.policy" })
        #expect(fields(policy)["mode"] as? String == "canary")
        #expect(fields(policy)["seed"] != nil && fields(policy)["draw"] != nil)
        #expect(fields(policy)["enforced"] as? String == (percent == 100 ? "true" : "false"))
        let decision = try #require(all.first { $0["kind"] as? String == "policy.decision" })
        #expect(fields(decision)["decision"] as? String == (percent == 100 ? "restart" : "would_restart"))
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
    }

    /// --on-runaway kill: the whole tree goes and FlowForge exits with its own code, the evidence kept.
    @Test(.timeLimit(.minutes(1)))
    func killActionRemovesTheTree() throws {
        let events = dir + "/kill.jsonl"
        let marker = Marker.make("kill")
        let ff = try Supervised(["--on-runaway", "kill", "--events", events] + fast + ["--", "sh", "-c", "sleep 300 & " + spinningWorker[2]],
                                marker: marker)
        defer { killMarked(marker) }
        #expect(ff.waitForExit(timeout: 30))
        #expect(ff.exitCode == 120)
        #expect(eventually(timeout: 2) { processes(withMarker: marker).isEmpty })
        let all = readEvents(events)
        let opened = try #require(all.first { $0["kind"] as? String == "incident.opened" })
        let f = fields(opened)
        #expect((f["reason"] as? String)?.contains("CPU") == true)
        #expect((f["last_lines"] as? String)?.contains("retrying tool call") == true)
        #expect(f["cpu_series"] != nil && f["process_tree"] != nil)
        #expect(f["confidence"] as? Double ?? 0 >= 0.8)
        let chain = kinds(all)
        #expect(chain.contains("teardown.started") && chain.contains("worker.exited") && chain.contains("teardown.finished"))
        let incident = opened["incident_id"] as? String
        #expect(all.filter { $0["kind"] as? String == "teardown.started" }.allSatisfy { $0["incident_id"] as? String == incident })
    }

    /// --on-runaway log: an incident, no action.
    @Test(.timeLimit(.minutes(1)))
    func logActionOnlyRecords() throws {
        let events = dir + "/log.jsonl"
        let ff = try Supervised(["--on-runaway", "log", "--events", events] + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        #expect(eventually(timeout: 20) { kinds(readEvents(events)).contains("incident.opened") })
        let worker = ff.worker()
        #expect(consistently(for: 0.5) { ff.worker() == worker }, "--on-runaway log must not act")
        let decision = readEvents(events).first { $0["kind"] as? String == "policy.decision" }
        #expect(decision.map { fields($0)["decision"] as? String } == "log")
        // The events file FlowForge created holds the worker's output: only its owner may read it.
        let mode = (try FileManager.default.attributesOfItem(atPath: events)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode.map { $0 & 0o777 } == 0o600)
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
    }

    /// Through a pipe sink, output beyond the analysis budget (here megabytes a second) is spliced past the
    /// reaper; the detector still gets its budgeted copy of whole lines and catches the flood.
    @Test(.timeLimit(.minutes(1)))
    func floodingWorkerIsCaughtThroughAPipe() throws {
        let events = dir + "/flood.jsonl"
        let flood = "while :; do echo 'step 3: retrying tool call search(query=TODO)'; done"
        let ff = try Supervised(["--on-runaway", "log", "--events", events] + fast + ["--", "sh", "-c", flood], pipes: true)
        defer { ff.signal(SIGKILL) }
        // 2.6 s on an idle machine; the reader threads draining the pipes set the pace on a loaded one.
        #expect(eventually(timeout: 40) { kinds(readEvents(events)).contains("incident.opened") }, "\(ff.stderr)")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.stdout.hasPrefix("step 3: retrying tool call search(query=TODO)\nstep 3:"))
    }

    /// Offline replay of a recording reaches the live verdict with the live thresholds, and changes it when
    /// the thresholds change (a single-core loop never reaches --max-cpu 150).
    @Test(.timeLimit(.minutes(1)))
    func replayReproducesAndRetunes() throws {
        let events = dir + "/replay.jsonl"
        let ff = try Supervised(["--shadow-mode", "--events", events] + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        #expect(eventually(timeout: 20) { kinds(readEvents(events)).contains("incident.opened") })
        // The recording goes on past the incident (samples every 0.25 s), as a real one does.
        #expect(eventually(timeout: 10) {
            readEvents(events).drop { $0["kind"] as? String != "incident.opened" }.filter { $0["kind"] as? String == "sample" }.count >= 4
        })
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        func replay(_ extra: [String], file: String = events, status: Int32 = 0) throws -> [String: Any]? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
            p.arguments = ["replay", "--max-cpu", "50", "--sustain", "2"] + extra + [file]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            try p.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == status)
            guard let first = out.split(separator: UInt8(ascii: "\n")).first else { return nil }
            return try #require(JSONSerialization.jsonObject(with: Data(first)) as? [String: Any])
        }
        let same = try #require(try replay([]))
        #expect(same["detected"] as? Bool == true, "\(same)")
        #expect(same["skipped_lines"] as? Int == 0)
        // Detection cannot come before CPU was sustained for --sustain seconds.
        #expect((same["latency_seconds"] as? Double ?? 0) >= 1.9, "\(same)")
        let strict = try #require(try replay(["--max-cpu", "150"]))
        #expect(strict["detected"] as? Bool == false, "\(strict)")

        // A damaged line and a last line cut short (a killed writer) are skipped, not fatal.
        let damaged = dir + "/damaged.jsonl"
        var text = try String(contentsOfFile: events, encoding: .utf8)
        let lines = text.split(separator: "\n")
        text = lines.prefix(3).joined(separator: "\n") + "\nnot json at all\n" + lines.dropFirst(3).joined(separator: "\n")
            + "\n{\"ts\":\"2026-"
        try text.write(toFile: damaged, atomically: true, encoding: .utf8)
        let partial = try #require(try replay([], file: damaged))
        #expect(partial["detected"] as? Bool == true, "\(partial)")
        #expect(partial["skipped_lines"] as? Int == 2, "\(partial)")

        // Regression: a sample older than the one before it (here: the first sample again, at the end) ran the
        // replay's CPU clock backwards and trapped on a UInt64 underflow. It is skipped and counted.
        let reordered = dir + "/reordered.jsonl"
        let all = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        let firstSample = try #require(all.first { $0.contains("\"kind\":\"sample\"") })
        try (all.joined(separator: "\n") + "\n" + firstSample + "\n").write(toFile: reordered, atomically: true, encoding: .utf8)
        let back = try #require(try replay([], file: reordered))
        #expect(back["skipped_lines"] as? Int == 1, "\(back)")

        // --max-cpu is bounded by the recording machine's cores, not this one's.
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let tooHigh = "\(cores * 100 + 100)"
        #expect(try replay(["--max-cpu", tooHigh], status: 64) == nil)
        let bigger = try #require(try replay(["--max-cpu", tooHigh, "--cores", "\(cores + 2)"]))
        #expect(bigger["detected"] as? Bool == false)
    }

    /// The crash-loop guard: a worker that runs away in every generation is restarted at most
    /// --max-restarts times, then FlowForge stops and says why.
    @Test(.timeLimit(.minutes(1)))
    func crashLoopGuardStops() throws {
        let events = dir + "/loop.jsonl"
        let ff = try Supervised(["--max-restarts", "1", "--events", events] + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        #expect(ff.waitForExit(timeout: 45), "\(ff.stderr)")
        #expect(ff.exitCode == 120)
        #expect(kinds(readEvents(events)).contains("restart.suppressed"))
        #expect(ff.stderr.contains("crash-loop guard"))
    }

    /// A silent full-CPU worker that writes a file every 0.1 s is working, not spinning: the tree's read/write
    /// calls (read by the spawner from /proc/PID/io and forwarded to the detector, since a sandboxed detector
    /// may not read a root worker's io file) keep the silence rule from firing. The same worker without the
    /// writes is the negative control: it must be stopped as a silent spin with "no I/O" in the reason.
    @Test(.timeLimit(.minutes(1)), .enabled(if: onPath("python3")), arguments: [true, false])
    func silentWorkerDoingIOIsNotASpin(_ writes: Bool) throws {
        let events = dir + "/silent-\(writes).jsonl"
        let script = """
            import time, hashlib, tempfile, os
            d = tempfile.mkdtemp()
            end = time.time() + 9
            nxt = time.time()
            h = hashlib.sha256()
            while time.time() < end:
                h.update(b"x")
                if \(writes ? "True" : "False") and time.time() > nxt:
                    with open(os.path.join(d, "out"), "a") as f:
                        f.write(h.hexdigest() + "\\n")
                    nxt += 0.1
            os.unlink(os.path.join(d, "out")) if os.path.exists(os.path.join(d, "out")) else None
            os.rmdir(d)
            """
        let ff = try Supervised(["--on-runaway", "log", "--silence", "4", "--events", events] + fast
                                + ["--", "python3", "-c", script])
        #expect(ff.waitForExit(timeout: 40), "\(ff.stderr)")
        let all = readEvents(events)
        let samples = all.filter { $0["kind"] as? String == "sample" }
        #expect(samples.contains { fields($0)["io_syscalls"] != nil }, "no sample carries the tree's I/O")
        let opened = all.filter { $0["kind"] as? String == "incident.opened" }
        if writes {
            #expect(opened.isEmpty, "\(opened.map { fields($0)["reason"] ?? "" })")
        } else {
            let reason = opened.first.map { fields($0)["reason"] as? String ?? "" } ?? ""
            #expect(reason.hasPrefix("runaway (silent spin)") && reason.contains("and no I/O"), "\(reason)")
        }
    }

    /// Busy but healthy: six seconds of a full core with varied, informative output (every line names a
    /// different file, as a compile does) is left alone.
    @Test(.timeLimit(.minutes(1)), .enabled(if: onPath("python3")))
    func busyWorkerWithVariedOutputIsLeftAlone() throws {
        let events = dir + "/busy.jsonl"
        let script = """
            import time, hashlib
            end = time.time() + 6
            n = 0
            while time.time() < end:
                n += 1
                name = "".join(chr(97 + int(d)) for d in str(n * 7919))
                t = time.time() + 0.004
                while time.time() < t:
                    hashlib.sha256(name.encode()).digest()
                print(f"compiled src/{name}/{name[::-1]}.c into {name}.o", flush=True)
            """
        let ff = try Supervised(["--events", events] + fast + ["--", "python3", "-c", script])
        #expect(ff.waitForExit(timeout: 30))
        #expect(ff.exitCode == 0)
        let samples = readEvents(events).filter { $0["kind"] as? String == "sample" }
        let busy = samples.filter { (fields($0)["cpu_percent"] as? Double ?? 0) >= 85 }
        #expect(busy.count * 3 >= samples.count, "the profile must really be busy: \(samples.count) samples, \(busy.count) at >= 85%")
        #expect(!kinds(readEvents(events)).contains("incident.opened"))
    }

    @Test(arguments: [
        (["--max-cpu", "-1"], "--max-cpu"), (["--max-cpu", "nan"], "--max-cpu"), (["--max-cpu", "100000"], "core"),
        (["--policy-rollout", "sometimes"], "policy-rollout"), (["--policy-canary-percent", "101"], "--policy-canary-percent"),
        (["--min-confidence", "1.5"], "confidence"), (["--sustain", "-3"], "sustain"), (["--on-runaway", "explode"], "on-runaway"),
        (["--shadow-mode", "--policy-rollout", "enforce"], "conflicts"),
    ])
    func badValuesFailBeforeAnythingStarts(_ args: [String], _ mention: String) throws {
        let ff = try Supervised(args + ["--", "sh", "-c", "echo started"])
        #expect(ff.waitForExit())
        #expect(ff.exitCode != 0)
        #expect(ff.stdout.isEmpty, "the worker must not start")
        #expect(ff.stderr.lowercased().contains(mention.lowercased()), "\(ff.stderr)")
    }
}
