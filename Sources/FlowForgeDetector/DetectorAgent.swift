// FlowForge — the sampler/detector agent: samples the worker's tree from /proc, analyses its output copy,
// and asks the reaper to act when the worker runs away.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAgent
import FlowForgeSystem
import FlowForgeWire

/// The detector agent's I/O around `DetectorEngine`.
public enum DetectorAgent {
    public static func main(arguments: [String]) -> Never {
        var runtime = AgentRuntime.start(role: .detector, policy: .detector, arguments: arguments)
        TestProbe.attemptIfAsked(role: "detector")
        let options: DetectorOptions
        do { options = try DetectorOptions(arguments: runtime.extraArguments) } catch {
            runtime.log(0, "bad detector options: \(error)")
            CurrentProcess.exit(FlowForgeExitCode.internalUsage)
        }
        var engine: DetectorEngine
        do { engine = try DetectorEngine(options: options) } catch {
            runtime.log(0, "bad thresholds: \(error)")
            CurrentProcess.exit(FlowForgeExitCode.internalUsage)
        }
        let channel = runtime.channel
        let restartAt = TestProbe.restartRequestGeneration()
        var sendRestart = false
        var helpers: Set<Int32> = [CurrentProcess.id]
        // The tree's I/O activity, as the spawner read it and the reaper forwarded it once per sample: the
        // spawner has the caller's privileges, this sandbox may not read /proc/PID/io of a root worker, and
        // one reader is enough.
        var treeActivity: (at: UInt64, generation: UInt32, value: ProcessActivity)?
        var reaperPID = runtime.parentPID
        let interval = UInt64(max(0.05, options.sampleIntervalSeconds) * 1e9)
        var nextSample = Clock.monotonicNanos() + interval
        let ticksPerSecond = ProcessEntry.ticksPerSecond
        let pageSize = ProcessEntry.pageSize
        // The worker's own cgroup (when FlowForge made one): its cpu.stat counts every process that ever ran
        // in it, exited ones included, so it is the better CPU source. Found from /proc/PID/cgroup.
        let cgroupMount = Cgroup.cgroup2Mount()
        var cgroupDirectory: String?
        func locateCgroup(_ pid: Int32) {
            cgroupDirectory = nil
            guard let mount = cgroupMount, let text = FileIO.readText("/proc/\(pid)/cgroup") else { return }
            for line in text.split(separator: "\n") where line.hasPrefix("0::") {
                let path = String(line.dropFirst(3))
                if path.split(separator: "/").last?.hasPrefix("flowforge-") == true {
                    cgroupDirectory = mount + path + "/"
                }
            }
        }

        func send(_ outputs: [DetectorEngine.Output]) {
            for output in outputs {
                switch output {
                case .event(let kind, let fields):
                    let list = fields.sorted { $0.key < $1.key }.map { Field(key: $0.key, value: $0.value) }
                    if let event = try? Event(kind: kind, generation: engine.generation, wallNanos: Clock.wallNanos(), fields: list) {
                        _ = try? channel.send(Message.event(event).encode())
                    }
                case .request(let id, let restart, let generation, let reason):
                    _ = try? channel.send(Message.actionRequest(id: id, kind: restart ? .restart : .kill,
                                                                 generation: generation, reason: reason).encode())
                }
            }
        }

        // The worker's NOTIFY_SOCKET (the spawner bound it; /dev/null when the run has none). A datagram counts
        // only when its sender (SCM_CREDENTIALS) is in the worker's tree: below the reaper, not a helper.
        let notifyFD = NotifySocket.isSocket(InheritedFD.Detector.notify) ? InheritedFD.Detector.notify : -1
        // FlowForge's own service manager (systemd Type=notify), and its watchdog: pinged every half timeout.
        let serviceFD = NotifySocket.isSocket(InheritedFD.Detector.serviceManager) ? InheritedFD.Detector.serviceManager : -1
        let servicePingNanos = options.serviceWatchdogUsec * 500
        var nextServicePing: UInt64 = 0
        let logger = runtime // the runtime itself is busy running the loop these closures are called from
        var refused = 0
        /// Milliseconds until the next sample or the watchdog's deadline.
        func untilDue(_ now: UInt64) -> Int32 {
            var due = min(nextSample, engine.watchdogDeadline().map { $0 &+ 1_000_000 } ?? .max)
            if serviceFD >= 0 && servicePingNanos > 0 { due = min(due, nextServicePing) }
            return Int32(clamping: (due &- min(now, due)) / 1_000_000 + 1)
        }

        func inWorkerTree(_ pid: Int32, uid: UInt32) -> Bool {
            var p = pid
            for step in 0..<64 {
                guard p > 1, p != reaperPID, !helpers.contains(p) else { return false }
                guard let bytes = FileIO.readFile("/proc/\(p)/stat", limit: 4096), let e = ProcessEntry(stat: bytes) else {
                    // The sender exited before we looked (`systemd-notify` sends and exits at once; systemd has
                    // the same race). It can no longer be placed in a tree: it counts when it ran as the
                    // worker's user, who could ptrace the worker anyway.
                    return step == 0 && ProcStatus.read(pid: engine.workerPID)?.uid.first == uid
                }
                if e.ppid == reaperPID { return true }
                p = e.ppid
            }
            return false
        }
        // Messages that arrive before the reaper said which worker runs (a worker's first READY=1 can beat the
        // welcome) wait here, at most 16, and are judged once it has.
        var early: [(bytes: [UInt8], pid: Int32, uid: UInt32)] = []
        func readNotifications() {
            for _ in 0..<64 {
                guard let datagram = NotifySocket.receive(notifyFD) else { break }
                if engine.generation == 0 {
                    if early.count < 16 { early.append(datagram) }
                    continue
                }
                judge(datagram)
            }
        }
        func judgeEarly() {
            guard engine.generation > 0, !early.isEmpty else { return }
            let waiting = early
            early = []
            for datagram in waiting { judge(datagram) }
        }
        func judge(_ datagram: (bytes: [UInt8], pid: Int32, uid: UInt32)) {
            guard inWorkerTree(datagram.pid, uid: datagram.uid) else {
                refused += 1
                if refused <= 3 || refused % 100 == 0 {
                    logger.log(1, "notify socket: refused \(refused) message(s) from outside the worker's tree (pid \(datagram.pid))")
                }
                return
            }
            let text = String(decoding: datagram.bytes, as: UTF8.self)
            send(engine.notify(text, now: Clock.monotonicNanos()))
            // FlowForge under systemd (Type=notify): the worker's readiness, status and shutdown are FlowForge's.
            if serviceFD >= 0 {
                let forwarded = text.split(separator: "\n").filter { $0 == "READY=1" || $0 == "STOPPING=1" || $0.hasPrefix("STATUS=") }
                if !forwarded.isEmpty { _ = try? FileIO.writeAll(serviceFD, forwarded.joined(separator: "\n")) }
            }
        }

        runtime.run(extra: notifyFD, onExtra: readNotifications, handle: { message in
            let now = Clock.monotonicNanos()
            switch message {
            case .welcome(let run, let reaper, let pid, let g):
                engine.welcome(runID: run)
                reaperPID = Int32(bitPattern: reaper)
                if g > 0 { locateCgroup(Int32(bitPattern: pid)) }
                if g > 0 { engine.workerStarted(generation: g, pid: Int32(bitPattern: pid), name: workerName(Int32(bitPattern: pid)), now: now) }
                sendRestart = g != 0 && g == restartAt
            case .workerStarted(let g, let pid, _, _):
                locateCgroup(Int32(bitPattern: pid))
                engine.workerStarted(generation: g, pid: Int32(bitPattern: pid), name: workerName(Int32(bitPattern: pid)), now: now)
                sendRestart = g == restartAt
            case .output(let g, let stream, let bytes) where g == engine.generation:
                engine.output(bytes, stderr: stream == .stderr, now: now)
                // A quiet tree's next sample was put off: output brings it back to one interval.
                nextSample = min(nextSample, now &+ interval)
            case .event(let event) where event.kind == EventKind.treeActivity.rawValue:
                let f = Dictionary(event.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                if let syscalls = UInt64(f["syscalls"] ?? ""), let bytes = UInt64(f["bytes"] ?? "") {
                    treeActivity = (now, event.generation, ProcessActivity(
                        syscalls: syscalls, bytes: bytes, voluntarySwitches: UInt64(f["switches"] ?? "") ?? 0, readable: true))
                }
            case .event(let event) where event.kind == EventKind.runPolicy.rawValue:
                if let raw = event.fields.first(where: { $0.key == "incident_base" })?.value, let base = UInt64(raw) {
                    engine.numberIncidents(after: base)
                }
            case .event(let event) where event.kind == EventKind.runHelpers.rawValue:
                for field in event.fields { if let pid = Int32(field.value) { helpers.insert(pid) } }
            default: break
            }
        }, tick: { () -> Int32? in
            if sendRestart {
                sendRestart = false
                _ = try? channel.send(Message.actionRequest(id: 1, kind: .restart, generation: engine.generation, reason: "test hook").encode())
            }
            judgeEarly()
            let now = Clock.monotonicNanos()
            if serviceFD >= 0 && servicePingNanos > 0 && now >= nextServicePing {
                _ = try? FileIO.writeAll(serviceFD, "WATCHDOG=1")
                nextServicePing = now &+ servicePingNanos
            }
            send(engine.checkWatchdog(now: now))
            guard now >= nextSample else { return untilDue(now) }
            let table = ProcessTable.tree(of: reaperPID, excluding: helpers) ?? ProcessTable.snapshot()
            let tree = table.descendants(of: reaperPID, excluding: helpers)
            var ticks: UInt64 = 0
            var rss: Int64 = 0
            var treeText = ""
            for pid in tree {
                guard let e = table.entries[pid] else { continue }
                ticks &+= e.cpuTicks &+ e.reapedChildTicks
                rss += max(0, e.rssPages) * pageSize
                if treeText.utf8.count < 3800 { treeText += "\(e.pid) ppid=\(e.ppid) pgid=\(e.pgid) \(e.state)\n" }
            }
            // The reaper reads the tree's activity once per sample, so a reading is one interval old (a quiet
            // tree's is up to the quiet interval); older than that plus 3 s is a gap (unreadable), not the
            // tree's state now.
            var activity = ProcessActivity()
            let fresh = 3_000_000_000 &+ UInt64(engine.nextSampleDelay() * 1e9)
            if let t = treeActivity, t.generation == engine.generation, now < t.at &+ fresh { activity = t.value }
            // From the cgroup: CPU, and, when the memory controller is on for it, memory.current (page cache and
            // kernel memory of every process that ran in it; else the sum of RSS over the tree) and OOM kills.
            var memory: Int64?
            var oomKills: UInt64?
            if let dir = cgroupDirectory {
                if let usec = FileIO.readText(dir + "cpu.stat").flatMap({ Cgroup.flatKeyed("usage_usec", in: $0) }) {
                    ticks = usec * ticksPerSecond / 1_000_000
                }
                if let text = FileIO.readText(dir + "memory.current") { memory = Int64(text.split(separator: "\n").first ?? "") }
                if let text = FileIO.readText(dir + "memory.events") { oomKills = Cgroup.flatKeyed("oom_kill", in: text) }
            }
            send(engine.sample(ticks: ticks, ticksPerSecond: ticksPerSecond, rssBytes: rss, memoryBytes: memory, oomKills: oomKills, processes: tree.count,
                               tree: treeText, activity: activity, now: now))
            nextSample = now &+ UInt64(engine.nextSampleDelay() * 1e9)
            return untilDue(Clock.monotonicNanos())
        })
        CurrentProcess.exit(0)
    }

    /// A short name for the worker: `python3 worker.py`, `job.sh`, from /proc/PID/cmdline.
    static func workerName(_ pid: Int32) -> String {
        guard let bytes = FileIO.readFile("/proc/\(pid)/cmdline", limit: 4096) else { return "pid \(pid)" }
        let argv = bytes.split(separator: 0).prefix(2).map { String(decoding: $0, as: UTF8.self) }
        guard let first = argv.first else { return "pid \(pid)" }
        let base = first.split(separator: "/").last.map(String.init) ?? first
        let interpreters: Set<String> = ["python", "python3", "sh", "bash", "node", "ruby", "perl", "flowforge", "env"]
        if argv.count > 1, interpreters.contains(base) || base.hasPrefix("python") {
            return base + " " + (argv[1].split(separator: "/").last.map(String.init) ?? argv[1])
        }
        return base
    }
}
