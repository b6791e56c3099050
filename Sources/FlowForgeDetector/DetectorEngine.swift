// FlowForge — the detector's decisions over time: samples and output in, events and action requests out.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The detector agent's logic without I/O, driven by explicit time so tests and offline replay use it as is.
///
/// Incidents: a runaway verdict opens one (`incident.opened`, with the evidence captured before any
/// action), then asks the reaper to act per `--on-runaway`. After a restart the incident stays open until
/// the new generation has been healthy for the recovery window (`incident.recovered`); a new runaway first
/// closes it (`incident.closed`, outcome `relapsed`). In shadow mode the worker keeps running, so the open
/// incident closes once the runaway has ended for the recovery window.
public struct DetectorEngine: Sendable {
    /// What the engine wants done.
    public enum Output: Sendable, Equatable {
        case event(kind: EventKind, fields: [String: String])
        case request(id: UInt64, restart: Bool, generation: UInt32, reason: String)
    }

    struct Incident: Sendable {
        let id: UInt64
        let generation: UInt32
        var restarted = false
    }

    public let options: DetectorOptions
    let decision: RunawayDecision
    public private(set) var runID = "run"
    public private(set) var generation: UInt32 = 0
    public private(set) var workerPID: Int32 = 0
    public private(set) var workerName = "worker"
    var cpu = CPUSeries()
    var window: OutputWindow
    var assembler = LineAssembler()
    var records: [OutputSource: RecordAssembler] = [.stdout: RecordAssembler(), .stderr: RecordAssembler()]
    var activity = ActivitySeries()
    var recentLines: [String] = []
    var linesSinceSample: [String] = []
    /// Lines were left out of the last sample event's output (the byte or line cap).
    var recordingHasGap = false
    var incidentSeq: UInt64 = 0
    var incident: Incident?
    var healthySince: UInt64?
    var lastSampleAt: UInt64 = 0
    var peakCPU = 0.0
    /// The verdict of the newest sample.
    public private(set) var lastVerdict: Verdict?
    /// Output arrived since the newest sample.
    var outputSinceSample = false
    /// When the tree's memory went above `maxMemoryBytes` (nil: at or below it at the last sample).
    var memoryAboveSince: UInt64?
    /// The tree's memory at the newest sample, for the incident's evidence.
    var lastMemory: Int64 = 0
    /// `oom_kill` of the worker's cgroup at the last sample (nil: not read yet in this generation).
    var oomKillsSeen: UInt64?
    /// The process tree of the newest sample: an incident's evidence, also when it opens between samples (the
    /// watchdog).
    var lastTree = ""
    // sd_notify state of the current generation (`notify(_:now:)`).
    var ready = false
    /// The worker said READY=1 in some generation: recovery then waits for the new one's READY=1.
    var readyGates = false
    var stopping = false
    var notifyStatus = ""
    var lastStatusEventAt: UInt64 = 0
    /// The watchdog timeout (0: off): `--watchdog`, or what the worker set with WATCHDOG_USEC.
    var watchdogNanos: UInt64 = 0
    var lastPingAt: UInt64 = 0
    var pings = 0
    /// The newest sample found the tree quiet: under `quietCPUPercent`, no output since the one before, no
    /// incident open.
    public private(set) var lastSampleQuiet = false
    /// CPU (percent of one core) under which a silent tree counts as quiet.
    public static let quietCPUPercent = 5.0
    /// The longest wait between two samples of a quiet tree.
    public static let longestQuietInterval = 5.0
    /// Output kept per `sample` event (what `flowforge replay` sees): lines and bytes (a wire string holds
    /// at most `Wire.maxStringBytes`).
    public static let recordedOutputLines = 96
    public static let recordedOutputBytes = 4000

    /// How long a restarted worker must stay healthy: the recovery window, but never less than the time a
    /// runaway needs to be detected at all (sustain plus two samples), or "recovered" would mean nothing.
    public var recoveryWindow: Double {
        max(options.recoveryWindowSeconds, options.thresholds.sustainSeconds + 2 * options.sampleIntervalSeconds)
    }

    public init(options: DetectorOptions) throws(DetectionThresholdsError) {
        self.options = options
        self.decision = try RunawayDecision(thresholds: options.thresholds, cores: options.cores)
        self.window = OutputWindow()
        // The stall rule looks back over its whole timeout: keep that much CPU and activity history.
        let stall = options.thresholds.stallSeconds
        self.cpu = CPUSeries(retentionSeconds: max(300, stall + 60))
        self.activity = ActivitySeries(retentionSeconds: max(180, stall + 60))
    }

    public mutating func welcome(runID: String) { self.runID = runID }

    public func incidentID(_ id: UInt64) -> String { "\(runID)-\(id)" }

    /// The reaper's `incident_base`: numbers up to it were used by an earlier detector of this run (the
    /// reaper refuses an incident number it has seen before).
    public mutating func numberIncidents(after base: UInt64) { incidentSeq = max(incidentSeq, base) }

    /// A new generation started: everything measured so far belonged to the old one.
    public mutating func workerStarted(generation g: UInt32, pid: Int32, name: String, now: UInt64) {
        generation = g
        workerPID = pid
        workerName = name
        cpu.reset()
        window.reset(at: now)
        assembler.reset()
        records = [.stdout: RecordAssembler(), .stderr: RecordAssembler()]
        activity.reset()
        recentLines = []
        linesSinceSample = []
        recordingHasGap = false
        healthySince = nil
        peakCPU = 0
        memoryAboveSince = nil
        oomKillsSeen = nil
        ready = false
        stopping = false
        notifyStatus = ""
        watchdogNanos = UInt64(max(0, options.watchdogSeconds) * 1e9)
        lastPingAt = now
        pings = 0
        if var open = incident, open.generation < g {
            open.restarted = true
            incident = open
        }
    }

    /// How long after a sample the next one is due: the sample interval, or while the tree is quiet (see
    /// `lastSampleQuiet`) half the sustain time (and half the stall timeout when that rule is on), at most
    /// `longestQuietInterval` and never less than the
    /// interval. Fifty idle workers sampled every second cost a tenth of a core in FlowForge processes; a
    /// runaway needs CPU above `max_cpu` for the whole sustain time, so the first busy sample comes at most
    /// one quiet interval late, and output brings the next sample forward (`DetectorAgent`).
    public func nextSampleDelay() -> Double {
        let interval = max(0.05, options.sampleIntervalSeconds)
        guard lastSampleQuiet else { return interval }
        var quiet = min(Self.longestQuietInterval, options.thresholds.sustainSeconds / 2)
        if options.thresholds.stallSeconds > 0 { quiet = min(quiet, options.thresholds.stallSeconds / 2) } // a stall is a quiet tree
        return max(interval, quiet)
    }

    /// The memory rule (`maxMemoryBytes > 0`): the tree's memory above the limit at every sample for the
    /// sustain time (the clock starts at the first sample above it and stops at the first one at or below).
    /// Its own verdict, with confidence 1: a limit the operator set. The action comes before the kernel's
    /// OOM killer would: a graceful SIGTERM with the grace period, like any incident.
    private mutating func memoryVerdict(_ memory: Int64, base: Verdict, now: UInt64) -> Verdict? {
        let limit = options.thresholds.maxMemoryBytes
        guard limit > 0, Double(memory) > limit else {
            memoryAboveSince = nil
            return nil
        }
        let since = memoryAboveSince ?? now
        memoryAboveSince = since
        let held = Double(now &- since) / 1e9
        guard held >= options.thresholds.sustainSeconds else { return nil }
        let reason = "memory: \(Self.size(Double(memory))) above the limit of \(Self.size(limit)) for \(FixedDecimal.format(held, digits: 1))s"
            + " (--sustain \(FixedDecimal.format(options.thresholds.sustainSeconds, digits: 1))s); confidence 1.00"
        return .limit(.memory, reason: reason, cpuPercent: cpu.mean(overSeconds: held) ?? 0, sustainedSeconds: held, scores: base)
    }

    /// What an incident of `kind` is called in the action request's reason.
    static func noun(_ kind: Verdict.Kind) -> String {
        switch kind {
        case .stalled: "stall"
        case .memory: "memory limit"
        case .watchdog: "watchdog timeout"
        default: "runaway"
        }
    }

    /// The kernel's OOM killer struck in the worker's cgroup since the last sample (`memory.events` `oom_kill`
    /// went up): an incident `memory`, whatever `--max-memory` says, since the tree lost a process it did not
    /// choose to lose. The first reading of a generation is the baseline.
    private mutating func oomVerdict(_ kills: UInt64?, base: Verdict) -> Verdict? {
        guard let kills else { return nil }
        defer { oomKillsSeen = kills }
        guard let seen = oomKillsSeen, kills > seen else { return nil }
        let reason = "memory: the kernel's OOM killer killed \(kills - seen) process\(kills - seen == 1 ? "" : "es") of the tree (memory.events oom_kill \(kills)); confidence 1.00"
        return .limit(.memory, reason: reason, cpuPercent: base.cpuPercent, scores: base)
    }

    /// Bytes in MiB or GiB, one decimal.
    static func size(_ bytes: Double) -> String {
        let gib = 1_073_741_824.0, mib = 1_048_576.0
        return bytes >= gib ? FixedDecimal.format(bytes / gib, digits: 1) + " GiB" : FixedDecimal.format(bytes / mib, digits: 1) + " MiB"
    }

    /// The reaper's copy of the worker's output.
    public mutating func output(_ bytes: [UInt8], stderr: Bool, now: UInt64) {
        window.noteActivity(at: now)
        outputSinceSample = true
        let source: OutputSource = stderr ? .stderr : .stdout
        for line in assembler.append(bytes, from: source) {
            remember(line.text)
            for record in records[source, default: RecordAssembler()].push(line.text, at: now) {
                window.append(record.text, at: record.at)
            }
        }
    }

    /// Hands the window the records still held by the record assemblers (except a traceback being written).
    private mutating func flushRecords(now: UInt64) {
        for source in OutputSource.allCases {
            for record in records[source, default: RecordAssembler()].flush(now: now) {
                window.append(record.text, at: record.at)
            }
        }
    }

    private mutating func remember(_ line: String) {
        recentLines.append(line)
        if recentLines.count > 20 { recentLines.removeFirst(recentLines.count - 20) }
        if linesSinceSample.count < Self.recordedOutputLines { linesSinceSample.append(line) }
    }

    /// One sample of the worker's tree: cumulative CPU ticks, memory, process count and, when it could be
    /// read, the tree's cumulative I/O activity.
    public mutating func sample(ticks: UInt64, ticksPerSecond: UInt64, rssBytes: Int64, memoryBytes: Int64? = nil,
                                oomKills: UInt64? = nil, processes: Int, tree: String, activity io: ProcessActivity? = nil,
                                now: UInt64) -> [Output] {
        guard generation > 0 else { return [] }
        lastSampleAt = now
        flushRecords(now: now)
        cpu.record(at: now, ticks: ticks, ticksPerSecond: ticksPerSecond)
        if let io { activity.record(at: now, io) }
        let memory = memoryBytes ?? rssBytes
        lastMemory = memory
        var verdict = decision.evaluate(cpu: cpu, output: window, activity: activity, now: now)
        if !verdict.isRunaway, let over = memoryVerdict(memory, base: verdict, now: now) { verdict = over }
        if !verdict.isRunaway, let killed = oomVerdict(oomKills, base: verdict) { verdict = killed }
        lastVerdict = verdict
        let percent = cpu.latestPercent ?? 0
        peakCPU = max(peakCPU, percent)
        lastSampleQuiet = cpu.latestPercent != nil && percent < Self.quietCPUPercent && !outputSinceSample && incident == nil
            && memoryAboveSince == nil
        outputSinceSample = false
        var out: [Output] = []
        var sample = [
            "cpu_percent": FixedDecimal.format(percent, digits: 1), "entropy": FixedDecimal.format(verdict.entropy, digits: 2),
            "repetition": FixedDecimal.format(verdict.repetition, digits: 3),
            "confidence": FixedDecimal.format(verdict.confidence, digits: 3), "verdict": verdict.kind.rawValue,
            "rss_bytes": "\(rssBytes)", "memory_bytes": "\(memory)", "processes": "\(processes)", "lines": "\(window.lineCount)",
            "ticks": "\(ticks)", "ticks_per_second": "\(ticksPerSecond)",
            "repeating": "\(verdict.repeatingRecords)",
        ]
        if watchdogNanos > 0 || pings > 0 {
            sample["watchdog_age_seconds"] = FixedDecimal.format(Double(now &- lastPingAt) / 1e9, digits: 1)
        }
        if let io, io.readable {
            sample["io_syscalls"] = "\(io.syscalls)"
            sample["io_bytes"] = "\(io.bytes)"
            sample["io_switches"] = "\(io.voluntarySwitches)"
        }
        if !linesSinceSample.isEmpty {
            // Whole lines only: a line cut in half is a new line to whoever replays the recording.
            var kept: [String] = []
            var used = 0
            var lines = linesSinceSample[...]
            if recordingHasGap {
                // After a gap, the rest of a record whose start was left out (a traceback's frames and its
                // exception line) would also be new to replay: it starts with the next record.
                while let first = lines.first, RecordAssembler.isContinuation(first) {
                    lines = lines.dropFirst()
                }
                if lines.count < linesSinceSample.count, let first = lines.first, !RecordAssembler.isTracebackHeader(first) {
                    lines = lines.dropFirst()
                }
            }
            recordingHasGap = linesSinceSample.count >= Self.recordedOutputLines
            for line in lines {
                let size = line.utf8.count + (kept.isEmpty ? 0 : 1)
                if used + size > Self.recordedOutputBytes { break }
                kept.append(line)
                used += size
            }
            if kept.count < lines.count {
                recordingHasGap = true
                // Nor half a multi-line record (a traceback cut by the cap): that too would be new to replay.
                var end = kept.count
                while end > 0, RecordAssembler.isContinuation(kept[end - 1]) {
                    end -= 1
                }
                if end > 0, RecordAssembler.isTracebackHeader(kept[end - 1]) { end -= 1 }
                kept.removeSubrange(end...)
            }
            if kept.isEmpty, let first = lines.first, first.utf8.count > Self.recordedOutputBytes {
                kept = [first.utf8Prefix(Self.recordedOutputBytes)] // one huge line: its start, rather than nothing
            }
            if !kept.isEmpty { sample["output"] = kept.joined(separator: "\n") }
        }
        linesSinceSample = []
        out.append(.event(kind: .sample, fields: sample))

        lastTree = tree
        if verdict.isRunaway {
            out += act(on: verdict, now: now)
        } else if let open = incident {
            if healthySince == nil { healthySince = now }
            let healthyFor = Double(now &- (healthySince ?? now)) / 1e9
            // A worker that speaks sd_notify has recovered once it says READY=1 again (systemd's own idea of
            // a started service), not merely after the window.
            if healthyFor >= recoveryWindow && (!readyGates || ready) {
                let kind: EventKind = open.restarted ? .incidentRecovered : .incidentClosed
                out.append(.event(kind: kind, fields: [
                    "incident_id": incidentID(open.id), "outcome": open.restarted ? "recovered" : "runaway ended",
                    "recovery_window_seconds": FixedDecimal.format(recoveryWindow, digits: 1),
                    "pid": "\(workerPID)",
                ]))
                incident = nil
            }
        }
        return out
    }

    /// Opens an incident for `verdict`, unless one is open for this generation already (an open one of an
    /// earlier generation was a restart that did not help: it closes as relapsed).
    private mutating func act(on verdict: Verdict, now: UInt64) -> [Output] {
        healthySince = nil
        var out: [Output] = []
        if let open = incident {
            if open.generation == generation { return [] } // already acting on this one
            out.append(.event(kind: .incidentClosed, fields: ["incident_id": incidentID(open.id), "outcome": "relapsed"]))
            incident = nil
        }
        return out + open(verdict, now: now)
    }

    // MARK: sd_notify

    /// One notification from the worker's tree (`KEY=VALUE` lines, systemd's sd_notify protocol): READY=1,
    /// STATUS=..., STOPPING=1, WATCHDOG=1 (a ping), WATCHDOG=trigger (fail now), WATCHDOG_USEC=N (a new
    /// timeout, counted from now). Other keys (MAINPID, RELOADING, ERRNO, FDSTORE, ...) are ignored.
    public mutating func notify(_ text: String, now: UInt64) -> [Output] {
        guard generation > 0 else { return [] }
        var fields: [String: String] = [:]
        var trigger = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(64) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq], value = line[line.index(after: eq)...]
            switch key {
            case "READY" where value == "1":
                if !ready { fields["ready"] = "1" }
                ready = true
                readyGates = true
            case "STATUS":
                let status = String(value).utf8Prefix(256)
                if status != notifyStatus, now &- lastStatusEventAt >= 1_000_000_000 || lastStatusEventAt == 0 {
                    fields["status"] = status
                    lastStatusEventAt = now
                }
                notifyStatus = status
            case "STOPPING" where value == "1":
                if !stopping { fields["stopping"] = "1" }
                stopping = true
            case "WATCHDOG" where value == "1":
                lastPingAt = now
                pings += 1
            case "WATCHDOG" where value == "trigger":
                trigger = true
                fields["watchdog"] = "trigger"
            case "WATCHDOG_USEC":
                if let usec = UInt64(value), usec <= 604_800_000_000 {
                    watchdogNanos = usec * 1000
                    lastPingAt = now
                    fields["watchdog_usec"] = "\(usec)"
                }
            default: continue
            }
        }
        var out: [Output] = fields.isEmpty ? [] : [.event(kind: .workerNotify, fields: fields)]
        if trigger && !stopping {
            out += act(on: watchdogVerdict("the worker sent WATCHDOG=trigger", now: now), now: now)
        }
        return out
    }

    /// When the watchdog fires next (nil: off, stopping, or no worker), for the agent's wake-up.
    public func watchdogDeadline() -> UInt64? {
        guard watchdogNanos > 0, !stopping, generation > 0 else { return nil }
        return lastPingAt &+ watchdogNanos
    }

    /// The watchdog: with a timeout (`--watchdog` or the worker's WATCHDOG_USEC), no WATCHDOG=1 for that long
    /// since the last ping (or since the worker started) is an incident `watchdog`, unless it said STOPPING=1.
    public mutating func checkWatchdog(now: UInt64) -> [Output] {
        guard let deadline = watchdogDeadline(), now > deadline else { return [] }
        if let open = incident, open.generation == generation { return [] }
        let silent = Double(now &- lastPingAt) / 1e9
        let what = pings == 0 ? "no WATCHDOG=1 since the worker started \(FixedDecimal.format(silent, digits: 1))s ago"
            : "no WATCHDOG=1 for \(FixedDecimal.format(silent, digits: 1))s"
        return act(on: watchdogVerdict("\(what) (timeout \(FixedDecimal.format(Double(watchdogNanos) / 1e9, digits: 1))s)", now: now), now: now)
    }

    private func watchdogVerdict(_ why: String, now: UInt64) -> Verdict {
        .limit(.watchdog, reason: "watchdog: \(why); confidence 1.00", cpuPercent: cpu.latestPercent ?? 0, scores: lastVerdict)
    }

    private mutating func open(_ verdict: Verdict, now: UInt64) -> [Output] {
        incidentSeq += 1
        let id = incidentSeq
        incident = Incident(id: id, generation: generation)
        let series = cpu.intervals.suffix(30).map { FixedDecimal.format($0.percent, digits: 0) }.joined(separator: ",")
        let fields = [
            "incident_id": incidentID(id), "worker": workerName, "pid": "\(workerPID)", "reason": verdict.reason,
            "verdict": verdict.kind.rawValue, "cpu_percent": FixedDecimal.format(verdict.cpuPercent, digits: 1),
            "peak_cpu_percent": FixedDecimal.format(peakCPU, digits: 1),
            "sustained_seconds": FixedDecimal.format(verdict.sustainedSeconds, digits: 1),
            "entropy": FixedDecimal.format(verdict.entropy, digits: 2), "repetition": FixedDecimal.format(verdict.repetition, digits: 3),
            "confidence": FixedDecimal.format(verdict.confidence, digits: 3), "action": options.action(for: verdict.kind).rawValue,
            "last_lines": recentLines.joined(separator: "\n").utf8Prefix(4000), "cpu_series": series.utf8Prefix(1000),
            "process_tree": lastTree.utf8Prefix(4000), "repeating": "\(verdict.repeatingRecords)",
            "memory_bytes": "\(lastMemory)",
        ]
        var out: [Output] = [.event(kind: .incidentOpened, fields: fields)]
        let action = options.action(for: verdict.kind)
        switch action {
        case .log:
            out.append(.event(kind: .policyDecision, fields: ["incident_id": incidentID(id), "decision": "log", "mode": "log",
                                                                 "enforced": "false"]))
        case .restart, .kill:
            out.append(.request(id: id, restart: action == .restart, generation: generation,
                                reason: "\(Self.noun(verdict.kind)) detected in \(workerName) (pid \(workerPID)): \(verdict.reason)".utf8Prefix(4000)))
        }
        return out
    }
}
