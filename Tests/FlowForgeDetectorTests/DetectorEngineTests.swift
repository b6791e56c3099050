// FlowForge — the detector engine end to end: output bytes and samples in, events and requests out.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Testing
@testable import FlowForgeDetector

@Suite struct DetectorEngineTests {
    static let second: UInt64 = 1_000_000_000

    func engine(silence: Double = 30) throws -> DetectorEngine {
        var options = DetectorOptions()
        options.thresholds = DetectionThresholds(silenceSeconds: silence)
        options.onRunaway = .kill
        return try started(options)
    }

    /// An engine of run "t" whose generation 1 (pid 42) started at time 0.
    func started(_ options: DetectorOptions) throws -> DetectorEngine {
        var e = try DetectorEngine(options: options)
        e.welcome(runID: "t")
        e.workerStarted(generation: 1, pid: 42, name: "worker", now: 0)
        return e
    }

    /// Runs `seconds` of a full core, printing `perSecond` of `chunk` each second on `stderr`, with the tree's
    /// activity growing by `syscallsPerSecond`; returns the first incident's fields, if any.
    func run(_ e: inout DetectorEngine, seconds: Int, chunk: String = "", perSecond: Int = 0, stderr: Bool = false,
             syscallsPerSecond: UInt64 = 0) -> [String: String]? {
        var opened: [String: String]?
        for s in 1...seconds {
            let now = UInt64(s) * Self.second
            for k in 0..<perSecond {
                e.output(Array(chunk.utf8), stderr: stderr, now: now - Self.second + UInt64(k) * Self.second / UInt64(perSecond))
            }
            let io = ProcessActivity(syscalls: UInt64(s) * syscallsPerSecond, bytes: UInt64(s) * syscallsPerSecond * 64,
                                     voluntarySwitches: 0, readable: true)
            for output in e.sample(ticks: UInt64(s) * 100, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "",
                                   activity: io, now: now) {
                if case .event(.incidentOpened, let fields) = output, opened == nil { opened = fields }
            }
        }
        return opened
    }

    /// A loop printing the same Python traceback to stderr is a one-record loop: the traceback is joined into
    /// one record, so the incident names one record repeating, not a six-line cycle.
    @Test func tracebackLoopOnStderr() throws {
        var e = try engine()
        let tb = """
            Traceback (most recent call last):
              File "/srv/worker.py", line 42, in <module>
                handle(job)
              File "/srv/worker.py", line 17, in handle
                raise ConnectionError("broker unavailable")
            ConnectionError: broker unavailable

            """
        let opened = run(&e, seconds: 20, chunk: tb, perSecond: 3, stderr: true)
        let reason = opened?["reason"] ?? ""
        #expect(reason.hasPrefix("runaway (repetitive output)"), "\(reason)")
        #expect(reason.contains("repeat 1 record with the same values"), "\(reason)")
        #expect(reason.contains("saying failure or retry"), "\(reason)")
    }

    /// The silence rule asks the tree's activity: a silent busy tree doing read/write calls is working,
    /// one doing none is a spin; sample events record the counters for replay.
    @Test(arguments: [(UInt64(0), true), (UInt64(5), false)])
    func silenceIsCorroboratedByActivity(_ syscallsPerSecond: UInt64, _ isSpin: Bool) throws {
        var e = try engine(silence: 10)
        let opened = run(&e, seconds: 25, syscallsPerSecond: syscallsPerSecond)
        if isSpin {
            #expect(opened?["reason"]?.contains("and no I/O (0.0 read/write calls/s") == true, "\(opened ?? [:])")
        } else {
            #expect(opened == nil, "\(opened ?? [:])")
            #expect(e.lastVerdict?.reason.contains("but the tree is working (5.0 read/write calls/s") == true,
                    "\(e.lastVerdict?.reason ?? "")")
        }
    }

    @Test func sampleEventsCarryTheActivityCounters() throws {
        var e = try engine()
        let io = ProcessActivity(syscalls: 7, bytes: 4096, voluntarySwitches: 3, readable: true)
        _ = e.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", activity: io, now: Self.second)
        let out = e.sample(ticks: 100, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", activity: io, now: 2 * Self.second)
        guard case .event(.sample, let fields)? = out.first else {
            Issue.record("no sample event")
            return
        }
        #expect(fields["io_syscalls"] == "7" && fields["io_bytes"] == "4096" && fields["io_switches"] == "3")
    }

    /// A quiet tree (under 5 % of a core, no output) is sampled every half sustain time (5 s by default) instead
    /// of every second; CPU, output or an open incident bring back the sample interval.
    @Test func quietTreesAreSampledLessOften() throws {
        var e = try engine()
        #expect(e.nextSampleDelay() == 1, "no CPU reading yet")
        func sample(_ s: UInt64, ticks: UInt64) { _ = e.sample(ticks: ticks, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: s * Self.second) }
        sample(1, ticks: 0)
        sample(2, ticks: 1) // 1 % of a core
        #expect(e.lastSampleQuiet && e.nextSampleDelay() == 5)
        sample(7, ticks: 1)
        #expect(e.nextSampleDelay() == 5)
        e.output(Array("job 1 done\n".utf8), stderr: false, now: 8 * Self.second)
        sample(9, ticks: 1)
        #expect(!e.lastSampleQuiet && e.nextSampleDelay() == 1, "output since the last sample")
        sample(10, ticks: 1)
        #expect(e.nextSampleDelay() == 5)
        sample(11, ticks: 91) // 90 % of a core
        #expect(e.nextSampleDelay() == 1, "busy")

        // Never longer than the sample interval, never longer than half the sustain time.
        var options = DetectorOptions()
        options.thresholds = DetectionThresholds(sustainSeconds: 4)
        var short = try started(options)
        _ = short.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: Self.second)
        _ = short.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: 2 * Self.second)
        #expect(short.nextSampleDelay() == 2)
        options.sampleIntervalSeconds = 3
        var slow = try started(options)
        _ = slow.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: Self.second)
        _ = slow.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: 4 * Self.second)
        #expect(slow.nextSampleDelay() == 3)
    }

    /// The stall rule (issue 13): no output, next to no CPU and no I/O for the stall timeout is an incident
    /// `stalled` with the --on-runaway action; a heartbeat, CPU or I/O keeps a worker out of it, and 0 turns
    /// the rule off.
    @Test func stalledWorkers() throws {
        func run(stall: Double, seconds: Int, ticksPerSecond cpu: UInt64 = 0, heartbeatEvery: Int = 0,
                 syscallsPerSecond: UInt64 = 0) throws -> [String: String]? {
            var options = DetectorOptions()
            options.thresholds = DetectionThresholds(stallSeconds: stall)
            options.onRunaway = .restart
            var e = try started(options)
            for s in 1...seconds {
                let now = UInt64(s) * Self.second
                if heartbeatEvery > 0 && s % heartbeatEvery == 0 { e.output(Array("still waiting for the queue\n".utf8), stderr: false, now: now) }
                let io = ProcessActivity(syscalls: UInt64(s) * syscallsPerSecond, bytes: 0, voluntarySwitches: UInt64(s), readable: true)
                for output in e.sample(ticks: UInt64(s) * cpu, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", activity: io, now: now) {
                    if case .event(.incidentOpened, let fields) = output { return fields }
                }
            }
            return nil
        }
        let stalled = try #require(try run(stall: 20, seconds: 30))
        #expect(stalled["verdict"] == "stalled")
        #expect(stalled["reason"]?.hasPrefix("stalled: no output for 2") == true, "\(stalled["reason"] ?? "")")
        #expect(stalled["action"] == "restart")
        #expect(try run(stall: 20, seconds: 19) == nil, "not before the timeout")
        #expect(try run(stall: 20, seconds: 60, heartbeatEvery: 10) == nil, "a heartbeat is not a stall")
        #expect(try run(stall: 20, seconds: 60, ticksPerSecond: 30) == nil, "30 % of a core is working")
        #expect(try run(stall: 20, seconds: 60, syscallsPerSecond: 200) == nil, "reading or writing is working")
        #expect(try run(stall: 0, seconds: 120) == nil, "off by default")
        // Longer than the default history: the series keep the whole timeout.
        #expect(try run(stall: 400, seconds: 410)?["verdict"] == "stalled")
    }

    /// The memory rule (issue 13 item 3): memory above --max-memory at every sample for --sustain seconds is an
    /// incident `memory`; a spike shorter than that, memory at the limit, or no limit is not.
    @Test func memoryAboveTheLimitForTheSustainTime() throws {
        let mib: Int64 = 1 << 20
        func run(limit: Double, sustain: Double = 5, memory: (Int) -> Int64, seconds: Int = 20) throws -> [String: String]? {
            var options = DetectorOptions()
            options.thresholds = DetectionThresholds(sustainSeconds: sustain, maxMemoryBytes: limit)
            var e = try started(options)
            for s in 1...seconds {
                e.output(Array("job \(s) done\n".utf8), stderr: false, now: UInt64(s) * Self.second - 1)
                for output in e.sample(ticks: UInt64(s) * 20, ticksPerSecond: 100, rssBytes: memory(s) / 2, memoryBytes: memory(s),
                                       processes: 1, tree: "", now: UInt64(s) * Self.second) {
                    if case .event(.incidentOpened, let fields) = output { return fields.merging(["at": "\(s)"]) { a, _ in a } }
                }
            }
            return nil
        }
        let limit = Double(200 * mib)
        let leak = try #require(try run(limit: limit, memory: { Int64($0) * 20 * mib }))
        #expect(leak["verdict"] == "memory")
        #expect(leak["at"] == "16", "above the limit from second 11, held 5 s: \(leak["at"] ?? "")")
        #expect(leak["reason"]?.hasPrefix("memory: 320.0 MiB above the limit of 200.0 MiB for 5.0s") == true, "\(leak["reason"] ?? "")")
        #expect(leak["memory_bytes"] == "\(320 * mib)", "memory.current, not RSS")
        #expect(try run(limit: limit, memory: { $0 % 5 == 0 ? 300 * mib : 100 * mib }) == nil, "spikes shorter than --sustain")
        #expect(try run(limit: limit, memory: { _ in 200 * mib }) == nil, "at the limit is not above it")
        #expect(try run(limit: 0, memory: { Int64($0) * 100 * mib }) == nil, "off by default")
    }

    /// sd_notify (issue 13 item 2), as systemd reads it: READY=1, STATUS=, STOPPING=1 become `worker.notify`
    /// events; the watchdog fires after its timeout without WATCHDOG=1 (counted from the worker's start or the
    /// last ping), at once on WATCHDOG=trigger, never after STOPPING=1; WATCHDOG_USEC= sets a new timeout.
    @Test func notifyAndTheWatchdog() throws {
        func engine(watchdog: Double) throws -> DetectorEngine {
            var options = DetectorOptions()
            options.watchdogSeconds = watchdog
            options.onRunaway = .restart
            return try started(options)
        }
        func opened(_ out: [DetectorEngine.Output]) -> [String: String]? {
            out.lazy.compactMap { if case .event(.incidentOpened, let f) = $0 { f } else { nil } }.first
        }
        func notified(_ out: [DetectorEngine.Output]) -> [String: String]? {
            out.lazy.compactMap { if case .event(.workerNotify, let f) = $0 { f } else { nil } }.first
        }
        var e = try engine(watchdog: 10)
        #expect(notified(e.notify("READY=1\nSTATUS=warming up\nMAINPID=42\n", now: Self.second)) == ["ready": "1", "status": "warming up"])
        #expect(notified(e.notify("READY=1", now: 2 * Self.second)) == nil, "said once")
        #expect(e.watchdogDeadline() == 10 * Self.second, "armed at the worker's start")
        _ = e.notify("WATCHDOG=1", now: 8 * Self.second)
        #expect(opened(e.checkWatchdog(now: 17 * Self.second)) == nil)
        let fired = try #require(opened(e.checkWatchdog(now: 18 * Self.second + 1)))
        #expect(fired["verdict"] == "watchdog" && fired["reason"]?.hasPrefix("watchdog: no WATCHDOG=1 for 10.0s (timeout 10.0s)") == true, "\(fired)")
        #expect(opened(e.checkWatchdog(now: 30 * Self.second)) == nil, "one incident per generation")

        var trigger = try engine(watchdog: 0)
        #expect(trigger.watchdogDeadline() == nil, "off")
        #expect(opened(trigger.notify("WATCHDOG=trigger", now: Self.second))?["reason"]?.contains("WATCHDOG=trigger") == true)

        var stopping = try engine(watchdog: 5)
        #expect(notified(stopping.notify("STOPPING=1", now: Self.second)) == ["stopping": "1"])
        #expect(stopping.watchdogDeadline() == nil && opened(stopping.checkWatchdog(now: 60 * Self.second)) == nil)

        var usec = try engine(watchdog: 0)
        #expect(notified(usec.notify("WATCHDOG_USEC=3000000", now: 4 * Self.second)) == ["watchdog_usec": "3000000"])
        #expect(usec.watchdogDeadline() == 7 * Self.second)
        #expect(opened(usec.checkWatchdog(now: 7 * Self.second + 1)) != nil)

        // Recovery waits for the restarted generation's READY=1 once the worker has spoken sd_notify.
        var gated = try engine(watchdog: 2)
        _ = gated.notify("READY=1", now: 0)
        #expect(opened(gated.checkWatchdog(now: 3 * Self.second)) != nil)
        gated.workerStarted(generation: 2, pid: 43, name: "worker", now: 4 * Self.second)
        func recovered(_ from: Int, _ to: Int) -> Bool {
            var found = false
            for s in from...to {
                _ = gated.notify("WATCHDOG=1", now: UInt64(s) * Self.second)
                for output in gated.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: UInt64(s) * Self.second) {
                    if case .event(.incidentRecovered, _) = output { found = true }
                }
            }
            return found
        }
        #expect(!recovered(5, 30), "no READY=1 from generation 2 yet")
        _ = gated.notify("READY=1", now: 31 * Self.second)
        #expect(recovered(31, 32))
    }

    /// Per-signal actions override --on-runaway for their own incidents only, and survive the detector's
    /// command line.
    @Test func perSignalActions() throws {
        var options = DetectorOptions()
        options.onRunaway = .restart
        options.actions[.stalled] = .log
        options.thresholds = DetectionThresholds(stallSeconds: 5)
        let again = try DetectorOptions(arguments: options.arguments)
        #expect(again.action(for: .stalled) == .log && again.action(for: .memory) == .restart && again.action(for: .cycle) == .restart)
        var e = try started(again)
        var outputs: [DetectorEngine.Output] = []
        for s in 1...8 { outputs += e.sample(ticks: 0, ticksPerSecond: 100, rssBytes: 0, processes: 1, tree: "", now: UInt64(s) * Self.second) }
        let opened = outputs.compactMap { if case .event(.incidentOpened, let f) = $0 { f } else { nil } }.first
        #expect(opened?["verdict"] == "stalled" && opened?["action"] == "log")
        #expect(!outputs.contains { if case .request = $0 { true } else { false } }, "log: no action requested")
    }

    /// An OOM kill in the worker's cgroup (memory.events oom_kill going up) is an incident `memory`, limit or
    /// not; the generation's first reading is only the baseline.
    @Test func oomKillsAreIncidents() throws {
        var e = try started(DetectorOptions())
        func sample(_ s: UInt64, kills: UInt64?) -> [String: String]? {
            e.sample(ticks: s, ticksPerSecond: 100, rssBytes: 0, oomKills: kills, processes: 1, tree: "", now: s * Self.second)
                .lazy.compactMap { if case .event(.incidentOpened, let f) = $0 { f } else { nil } }.first
        }
        #expect(sample(1, kills: 3) == nil, "baseline (kills before this generation)")
        #expect(sample(2, kills: 3) == nil)
        #expect(sample(3, kills: nil) == nil, "unreadable: no change")
        let opened = try #require(sample(4, kills: 4))
        #expect(opened["verdict"] == "memory" && opened["reason"]?.contains("OOM killer killed 1 process of the tree") == true, "\(opened)")
    }
}
