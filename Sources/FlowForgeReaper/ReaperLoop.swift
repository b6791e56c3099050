// FlowForge — the reaper's event loop: poll, turn what happened into state-machine events, execute actions.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The live worker generation as the reaper holds it: descriptors only, no paths.
struct WorkerHandle {
    let generation: UInt32
    let pid: Int32
    let pidfd: Int32
    let cgroupProcsFD: Int32
    let cgroupKillFD: Int32
    var hasCgroup: Bool { cgroupProcsFD >= 0 && cgroupKillFD >= 0 }
    var mechanism: String { hasCgroup ? "cgroup+pgid+scan" : "pgid+scan" }
}

/// A request sent to the spawner, awaiting its reply (replies come back in order).
enum SpawnerRequest {
    case worker(UInt32)
    case agent(AgentRole)
    case scan
    case activity(UInt32)
    case spool(UInt32)

    /// Whether the reply will name a new process (a child reaped before it must be remembered for it).
    var startsProcess: Bool {
        switch self {
        case .worker, .agent: true
        case .scan, .activity, .spool: false
        }
    }
}

/// The reaper process after it has sandboxed itself.
final class ReaperLoop {
    let config: ReaperConfig
    let hooks: TestHooks
    let log: Log
    let signalFD: Int32
    let spawner: Channel
    let spawnerPID: Int32
    var spawnerAlive = true
    var pendingSpawner: [SpawnerRequest] = []
    var machine: ReaperStateMachine
    var worker: WorkerHandle?
    /// Descriptors of a finished generation kept until the spawner has removed its cgroup.
    var relays: [OutputRelay]
    var agents: [AgentRole: AgentSlot] = [:]
    var analysis: AnalysisBudget
    var droppedAnalysisBytes: UInt64 = 0
    /// Per stream (stdout, stderr): the detector's copy lost bytes, so skip to the next line start.
    var analysisGap = [false, false]
    var readBuffer = [UInt8](repeating: 0, count: 65536)
    // Scan bookkeeping: one scan in flight at a time.
    var scan = TreeScan()
    /// The tree-activity poll for the detector: one request in flight, at most one a second.
    var activityInFlight = false
    /// A sample arrived from the detector since the last activity reading was asked for.
    var activityWanted = true
    var exitCode: Int32?
    lazy var eventsWritable = [Bool](repeating: true, count: config.eventsFDs.count)
    /// The run's spool: the segment being written and its size so far (nil: none, or it failed).
    lazy var spool: (fd: Int32, segment: UInt32, bytes: UInt64)? = config.spoolFD.map { ($0, 1, 0) }
    var spoolRotating = false
    var eventSeq: UInt64 = 0
    var nextActionID: UInt64 = 1
    /// Exit statuses of children reaped before the spawner's reply named them (fast-exiting workers).
    var earlyExits: [Int32: ExitStatus] = [:]
    /// Whether kill/restart requests from the detector are carried out (rollout enforce, or a canary draw
    /// that fell inside the percentage). Operator requests from the API are always carried out.
    var detectorEnforced: Bool { rollout.detectorEnforced }
    lazy var rollout = RolloutDecision(rollout: config.rollout, canaryPercent: config.canaryPercent,
                                       seed: UInt64.random(in: 0...UInt64(UInt32.max)))
    /// The incident whose teardown is in progress: its events carry `incident_id`.
    lazy var incidents = IncidentLedger(runID: config.runID)
    /// Our own process group, read before the filter (getpgrp is not on the allowlist).
    let ownGroup: Int32

    init(config: ReaperConfig, hooks: TestHooks, signalFD: Int32, spawner: Channel, spawnerPID: Int32,
         stdoutSource: Int32, stderrSource: Int32, sinksArePipes: (Bool, Bool) = (false, false), ownGroup: Int32) {
        self.ownGroup = ownGroup
        self.config = config
        self.hooks = hooks
        self.log = Log(level: config.logLevel, name: "reaper \(CurrentProcess.id)", json: config.logJSON)
        self.signalFD = signalFD
        self.spawner = spawner
        self.spawnerPID = spawnerPID
        self.machine = ReaperStateMachine(graceNanos: config.graceNanos, escalationEnabled: !hooks.isOff("escalation"))
        self.machine.restartPolicy.maxRestarts = config.maxRestarts
        self.machine.restartPolicy.windowNanos = config.restartWindowNanos
        self.machine.restartPolicy.stableRunNanos = config.stableRunNanos
        self.machine.restartPolicy.onExit = config.restartOnExit
        self.relays = [OutputRelay(source: stdoutSource, sink: 1, stream: .stdout, sinkIsPipe: sinksArePipes.0),
                       OutputRelay(source: stderrSource, sink: 2, stream: .stderr, sinkIsPipe: sinksArePipes.1)]
        // 256 KiB/s is thousands of lines a second: plenty to judge repetition, cheap for the detector.
        self.analysis = AnalysisBudget(bytesPerSecond: 256 << 10, now: Clock.monotonicNanos())
    }

    /// Runs until the state machine says exit; returns the exit code.
    func run() -> Int32 {
        for role in config.agents { agents[role] = AgentSlot(role: role, runID: config.runID) }
        // The worker first: nothing it needs waits for the agents (they catch up; the detector ignores the
        // first sample anyway, and output it missed is counted as dropped).
        recordRunStart()
        execute(machine.handle(.started, now: Clock.monotonicNanos()))
        for role in config.agents { requestAgent(role) }
        while exitCode == nil {
            pollOnce()
        }
        shutDown()
        return exitCode ?? FlowForgeExitCode.internalFailure
    }

    // MARK: poll

    private enum Source { case signals, spawner, relay(Int), agent(AgentRole) }

    private func pollOnce() {
        var fds: [PollDescriptor] = []
        var sources: [Source] = []
        func add(_ fd: Int32, _ events: PollEvents, _ s: Source) {
            fds.append(PollDescriptor(fd: fd, events: events))
            sources.append(s)
        }
        add(signalFD, .readable, .signals)
        if spawnerAlive { add(spawner.fd, .readable, .spawner) }
        for (i, relay) in relays.enumerated() {
            if let r = relay.pollRequest { add(r.fd, r.events, .relay(i)) }
        }
        for (role, slot) in agents {
            if let ch = slot.channel { add(ch.fd, .readable, .agent(role)) }
        }
        let now = Clock.monotonicNanos()
        var deadline = now + 1_000_000_000 // liveness checks at least once a second
        if let d = machine.nextDeadline { deadline = min(deadline, d) }
        for slot in agents.values { if let r = slot.respawnAt { deadline = min(deadline, r) } }
        let timeoutMS = Int32(clamping: deadline > now ? (deadline - now + 999_999) / 1_000_000 : 0)
        var n = 0
        do { n = try Poll.wait(&fds, timeoutMillis: timeoutMS) } catch {
            log(.error, "poll failed: \(error)")
        }
        if n > 0 {
            for (i, pfd) in fds.enumerated() where !pfd.revents.isEmpty {
                switch sources[i] {
                case .signals: drainSignals()
                case .spawner: readSpawner()
                case .relay(let r): serviceRelay(r, revents: pfd.revents)
                case .agent(let role): readAgent(role, revents: pfd.revents)
                }
                if exitCode != nil { return }
            }
        }
        let later = Clock.monotonicNanos()
        checkAgents(now: later)
        execute(machine.handle(.tick, now: later))
        requestActivity(now: later)
    }

    /// Asks the spawner for the worker tree's I/O activity, once per detector sample (the detector samples a
    /// quiet tree less often, and its next sample gets this reading), while a worker runs, nothing else is
    /// asked of the spawner, and a detector listens: the detector's sandbox cannot read `/proc/PID/io` of a
    /// worker with more privileges than it has, and its silence rule needs it. Never during a teardown.
    private func requestActivity(now: UInt64) {
        guard activityWanted, !activityInFlight, pendingSpawner.isEmpty, incidents.active == nil,
              !scan.busy, let w = worker, agents[.detector]?.readyChannel != nil else { return }
        activityWanted = false
        activityInFlight = true
        sendSpawner(.activity(generation: w.generation), expecting: .activity(w.generation))
    }

    // MARK: signals and reaping

    private func drainSignals() {
        while let (signal, _) = SignalFD.read(signalFD) {
            if signal == .child {
                reapChildren()
            } else {
                log(.info, "received \(signal)")
                execute(machine.handle(.stopRequested(signal), now: Clock.monotonicNanos()))
            }
        }
        // A SIGCHLD can coalesce with another already pending; reap regardless.
        reapChildren()
    }

    private func reapChildren() {
        while let (pid, status) = Pidfd.reapAny() {
            if let w = worker, pid == w.pid {
                drainRelays() // the worker's last words come before its exit in every log
                execute(machine.handle(.workerExited(generation: w.generation, status: status), now: Clock.monotonicNanos()))
            } else if pid == spawnerPID {
                spawnerAlive = false
                log(.error, "spawner exited (\(statusText(status)))")
                execute(machine.handle(.spawnerLost, now: Clock.monotonicNanos()))
            } else if let role = agents.first(where: { $0.value.pid == pid })?.key {
                agentExited(role, status: status)
            } else if pendingSpawner.contains(where: \.startsProcess) {
                // A worker or agent can exit before its spawn reply is read: keep the status for the reply.
                earlyExits[pid] = status
            } else {
                log(.debug, "reaped orphan \(pid) (\(statusText(status)))")
            }
        }
    }

    // MARK: actions

    func execute(_ actions: [ReaperStateMachine.Action]) {
        for action in actions {
            switch action {
            case .spawnWorker(let g):
                sendSpawner(.spawnWorker(generation: g), expecting: .worker(g))
            case .signalTree(let g, let signal):
                signalTree(generation: g, signal)
            case .checkTree(let g):
                checkTree(generation: g)
            case .finishGeneration(let g):
                finishGeneration(g)
            case .reply(let id, let outcome, let detail):
                broadcast(.actionResult(id: id, outcome: outcome, detail: detail))
            case .log(let level, let text):
                log(level, text)
            case .emit(let kind, let g, let fields):
                emit(kind, generation: g, fields: fields)
            case .exit(let code):
                exitCode = code
            }
        }
    }

    private func finishGeneration(_ g: UInt32) {
        drainRelays()
        if let w = worker, w.generation == g {
            FileIO.close(w.pidfd)
            FileIO.close(w.cgroupProcsFD)
            FileIO.close(w.cgroupKillFD)
            worker = nil
            if w.hasCgroup { sendSpawner(.removeCgroup(generation: g), expecting: nil) }
        }
    }

    /// Emits one of the reaper's own events, in the incident the ledger says it belongs to.
    func emit(_ kind: EventKind, generation: UInt32, fields: [String: String]) {
        emit(kind, generation: generation, incident: incidents.tag(kind), fields: fields)
    }

    /// Emits an event in `incident` (nil: none), unless its fields name one already.
    func emit(_ kind: EventKind, generation: UInt32, incident: String?, fields: [String: String]) {
        var fields = fields
        if let incident, fields["incident_id"] == nil { fields["incident_id"] = incident }
        let list = fields.sorted { $0.key < $1.key }.map { Field(key: $0.key, value: $0.value) }
        guard let event = try? FlowForgeWire.Event(kind: kind, generation: generation, wallNanos: Clock.wallNanos(), fields: list) else { return }
        publish(event, except: nil)
    }

    /// Numbers an event (`seq`, the run's event sequence), appends it to the events file and forwards it to
    /// every agent but `except`. The number lets readers of both the file and the channel drop duplicates.
    func publish(_ event: FlowForgeWire.Event, except: AgentRole?) {
        eventSeq += 1
        let numbered = (try? FlowForgeWire.Event(kind: event.kind, generation: event.generation, wallNanos: event.wallNanos,
                                                 fields: event.fields.filter { $0.key != "seq" } + [Field(key: "seq", value: "\(eventSeq)")])) ?? event
        record(numbered)
        for (role, slot) in agents where role != except {
            if let ch = slot.readyChannel { _ = try? ch.send(Message.event(numbered).encode(), nonBlocking: true) }
        }
    }

    /// Appends an event to the run's spool and the `--events` file (JSON lines). A failing write is reported
    /// once and that file dropped: the run itself never depends on it. The spool rotates at its segment
    /// size: the spawner opens the next segment (and prunes the oldest); until it answers, writes continue.
    func record(_ event: FlowForgeWire.Event) {
        guard spool != nil || !config.eventsFDs.isEmpty else { return }
        let line = event.jsonLine(runID: config.runID, name: config.name)
        if let s = spool {
            do {
                try FileIO.writeAll(s.fd, line)
                spool?.bytes += UInt64(line.utf8.count)
            } catch {
                spool = nil
                log(.error, "spool (segment \(s.segment)): \(error); no more events will be written to it")
            }
            if let s = spool, s.bytes >= config.spoolSegmentBytes, !spoolRotating, spawnerAlive {
                spoolRotating = true
                sendSpawner(.openSpool(segment: s.segment + 1), expecting: .spool(s.segment + 1))
            }
        }
        for (i, fd) in config.eventsFDs.enumerated() where eventsWritable[i] {
            do { try FileIO.writeAll(fd, line) } catch {
                eventsWritable[i] = false
                log(.error, "events file (descriptor \(fd)): \(error); no more events will be written to it")
            }
        }
    }

    /// The run's first events: its name and command, then the rollout drawn for it (for a canary, its seed and
    /// draw, so the choice can be audited).
    private func recordRunStart() {
        emit(.runStarted, generation: 0, fields: ["name": config.name, "argv": WorkerName.displayCommand(config.workerArguments)])
        emit(.runPolicy, generation: 0, fields: rollout.fields)
        if !detectorEnforced {
            log(.warn, "policy rollout \(config.rollout.rawValue): runaway kill/restart is LOG-ONLY for this run (would-act entries are recorded)")
        }
    }

    // MARK: spawner

    func sendSpawner(_ message: SpawnerMessage, expecting reply: SpawnerRequest?) {
        guard spawnerAlive else { return }
        do {
            try spawner.send(message.encode())
            if let reply { pendingSpawner.append(reply) }
        } catch {
            log(.error, "spawner channel: \(error)")
            spawnerAlive = false
            execute(machine.handle(.spawnerLost, now: Clock.monotonicNanos()))
        }
    }

    private func readSpawner() {
        while spawnerAlive {
            let received: Channel.Received
            do { received = try spawner.receive() } catch {
                received = .closed
            }
            switch received {
            case .wouldBlock: return
            case .closed, .oversized:
                spawnerAlive = false
                log(.error, "spawner channel closed")
                execute(machine.handle(.spawnerLost, now: Clock.monotonicNanos()))
                return
            case .frame(let bytes, let fds):
                guard let message = try? SpawnerMessage.decode(bytes), !pendingSpawner.isEmpty else {
                    for fd in fds { FileIO.close(fd) }
                    log(.error, "unexpected reply from the spawner")
                    continue
                }
                handleSpawnerReply(message, fds: fds, for: pendingSpawner.removeFirst())
            }
        }
    }

    private func handleSpawnerReply(_ message: SpawnerMessage, fds: [Int32], for request: SpawnerRequest) {
        let now = Clock.monotonicNanos()
        switch (request, message) {
        case (.worker(let g), .spawned(let pid, let hasCgroup)) where fds.count >= 1:
            let handle = WorkerHandle(generation: g, pid: Int32(bitPattern: pid), pidfd: fds[0],
                                      cgroupProcsFD: hasCgroup && fds.count == 3 ? fds[1] : -1,
                                      cgroupKillFD: hasCgroup && fds.count == 3 ? fds[2] : -1)
            worker = handle
            log(.debug, "teardown mechanism for generation \(g): \(handle.mechanism)")
            execute(machine.handle(.workerSpawned(generation: g, pid: handle.pid), now: now))
            broadcast(.workerStarted(generation: g, pid: pid, pgid: pid, startedAtNanos: now))
            emit(.teardownMechanism, generation: g, fields: ["mechanism": handle.mechanism])
            if let status = earlyExits.removeValue(forKey: handle.pid) {
                drainRelays()
                execute(machine.handle(.workerExited(generation: g, status: status), now: Clock.monotonicNanos()))
            }
            if pendingSpawner.isEmpty { earlyExits.removeAll() }
        case (.worker, .failed(_, let detail)):
            for fd in fds { FileIO.close(fd) }
            execute(machine.handle(.spawnFailed(detail), now: now))
        case (.agent(let role), .spawned(let pid, _)) where fds.count == 2:
            let agentPID = Int32(bitPattern: pid)
            agentSpawned(role, pid: agentPID, pidfd: fds[0], channel: fds[1], now: now)
            if let status = earlyExits.removeValue(forKey: agentPID) { agentExited(role, status: status) }
            if pendingSpawner.isEmpty { earlyExits.removeAll() }
        case (.agent(let role), .failed(_, let detail)):
            for fd in fds { FileIO.close(fd) }
            log(.error, "cannot start the \(role) agent: \(detail)")
            agents[role]?.scheduleRespawn(now: now)
        case (.scan, .scanResult(let pids)):
            scanReplied(pids.map { Int32(bitPattern: $0) })
        case (.activity(let g), .activityResult(let syscalls, let bytes, let switches, let processes)):
            activityInFlight = false
            guard processes > 0, let w = worker, w.generation == g,
                  let event = try? FlowForgeWire.Event(kind: .treeActivity, generation: g, wallNanos: Clock.wallNanos(), fields: [
                      Field(key: "bytes", value: "\(bytes)"), Field(key: "processes", value: "\(processes)"),
                      Field(key: "switches", value: "\(switches)"), Field(key: "syscalls", value: "\(syscalls)"),
                  ]) else { break }
            // To the detector only: a reading, not an event of the run (not numbered, not in the events file).
            if let ch = agents[.detector]?.readyChannel { _ = try? ch.send(Message.event(event).encode(), nonBlocking: true) }
        case (.spool(let n), .spoolOpened(let opened)) where fds.count == 1 && n == opened:
            spoolRotating = false
            if let old = spool { FileIO.close(old.fd) }
            spool = (fds[0], n, 0)
            log(.debug, "spool: segment \(n)")
        case (.spool(let n), _):
            for fd in fds { FileIO.close(fd) }
            // Keep the current segment; try again after another segment's worth.
            spoolRotating = false
            spool?.bytes = 0
            log(.warn, "spool: cannot open segment \(n); writing on in segment \(n - 1)")
        case (.activity, _):
            activityInFlight = false
            for fd in fds { FileIO.close(fd) }
        default:
            for fd in fds { FileIO.close(fd) }
            log(.error, "mismatched reply from the spawner")
        }
    }

    // MARK: shutdown

    private func shutDown() {
        drainRelays()
        for role in agents.keys { reportRejections(role, now: Clock.monotonicNanos(), force: true) }
        broadcast(.stopping(reason: "flowforge exiting"))
        for slot in agents.values {
            if let ch = slot.channel { FileIO.close(ch.fd) }
            // An agent that has not said hello yet has nothing to finish: a short run must not wait for its
            // start-up (tens of milliseconds) just to see it exit.
            if !slot.greeted && slot.pidfd >= 0 {
                log.sending("SIGKILL to the \(slot.role) agent (pid \(slot.pid))") { try Pidfd.signal(slot.pidfd, .kill) }
            }
        }
        // Greeted agents finish what they were answering (the API's reply to the kill that ended the run) and
        // exit on the closed channel; wait for them a little, then they go with us (PDEATHSIG).
        waitForChildren(Set(agents.values.map(\.pid).filter { $0 > 0 }), timeoutNanos: 500_000_000)
        // Let the spawner remove the cgroups before we exit, so a caller who sees us gone sees them gone too.
        if spawnerAlive {
            sendSpawner(.finish, expecting: nil)
            waitForChildren([spawnerPID], timeoutNanos: 2_000_000_000)
        }
    }

    /// Reaps children until every one of `pids` has exited or the timeout passes (shutdown only: the event
    /// loop no longer runs, so signals are drained here).
    private func waitForChildren(_ pids: Set<Int32>, timeoutNanos: UInt64) {
        var waiting = pids
        let deadline = Clock.monotonicNanos() + timeoutNanos
        var pollReported = false
        while !waiting.isEmpty && Clock.monotonicNanos() < deadline {
            do { _ = try Poll.wait(for: signalFD, .readable, timeoutMillis: 20) } catch where !pollReported {
                pollReported = true // once: this loop runs every 20 ms until the deadline
                log(.error, "poll failed: \(error)")
            } catch {}
            while SignalFD.read(signalFD) != nil {}
            while let (pid, _) = Pidfd.reapAny() {
                waiting.remove(pid)
                if pid == spawnerPID { spawnerAlive = false }
            }
        }
    }
}
