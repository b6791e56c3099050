// FlowForge — the spawner: forked before the reaper sandboxes itself, it is the only process that creates
// processes or touches the filesystem afterwards. It accepts a fixed set of requests from the reaper only.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The spawner role: descriptors as `InheritedFD.Spawner` lays them out (channel, the worker's pipes, the key).
///
/// Requests: `spawnWorker(gen)`, `spawnAgent(role)`, `scan`, `removeCgroup(gen)`, `finish`. The worker's
/// argv is fixed at startup and never read from a message. New processes are created with
/// `clone3(CLONE_PARENT)`, so they are the reaper's children, unfiltered, with the privileges the spawner
/// itself has. On channel EOF (the reaper died) it kills the worker's group and cgroups, then exits.
struct Spawner {
    let config: ReaperConfig
    let hooks: TestHooks
    let channel = Channel(fd: InheritedFD.channel)
    let reaperPID = CurrentProcess.parentID
    var log: Log
    var cgroupParent: String?
    var cgroups: [UInt32: Cgroup] = [:]
    var workerPGIDs: [UInt32: Int32] = [:]
    var agentPIDs: [AgentRole: Int32] = [:]
    let devNull: Int32
    /// The run's control socket, bound once and handed to every API agent generation.
    var controlFD: Int32 = -1
    /// The worker's NOTIFY_SOCKET (bound at start; -1 without one), handed to every detector.
    var notifyFD: Int32 = -1
    /// FlowForge's own NOTIFY_SOCKET, connected (-1 without one), handed to every detector.
    var serviceManagerFD: Int32 = -1
    /// The API key for the API agent (from `--api-key-fd`), handed to each API agent through a pipe.
    var apiKey: String?
    /// The spool segment the reaper writes to (the API agent reads its history from it).
    var spoolSegment: UInt32 = 1

    init(config: ReaperConfig) {
        self.config = config
        self.hooks = TestHooks.fromEnvironment()
        self.log = Log(level: config.logLevel, name: "spawner \(CurrentProcess.id)", json: config.logJSON)
        self.devNull = (try? FileIO.open("/dev/null", .readWrite)) ?? -1
        // Not dumpable: a worker of the same uid can neither ptrace us nor read our /proc files (the API key
        // below, our environment). The worker's exec makes it dumpable again for itself.
        _ = try? CurrentProcess.setDumpable(false)
        if let fd = config.apiKeyFD {
            apiKey = FileIO.readAll(fd: fd, limit: 4096).flatMap { bytes in
                String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
            }
            FileIO.close(fd)
        }
        // FlowForge's own service manager (systemd Type=notify): the detector forwards the worker's readiness
        // and status there and pings its watchdog.
        if let address = ProcessEnvironment.value("NOTIFY_SOCKET"), !address.isEmpty {
            do { serviceManagerFD = try NotifySocket.connect(address: address) } catch {
                log(.warn, "NOTIFY_SOCKET \(address): \(error); readiness is not forwarded")
            }
        }
        // The worker's sd_notify socket, in the abstract namespace: one per run, for every generation.
        do { notifyFD = try NotifySocket.bind(name: notifyName) } catch {
            log(.warn, "NOTIFY_SOCKET @\(notifyName): \(error); the worker gets no notify socket")
        }
        if let path = config.controlPath {
            do { controlFD = try UnixSocket.listen(path: path, owner: config.stateOwner) } catch {
                log(.warn, "control socket \(path): \(error); the dashboard cannot act on this run")
            }
        }
        if config.useCgroup, !hooks.isOff("escapees"), !hooks.isOff("tree-teardown"), CurrentProcess.effectiveUserID == 0,
           let parent = Cgroup.parentDirectory() {
            Cgroup.sweepStale(under: parent, prefix: Cgroup.ownerPrefix) { owner in Signal.processExists(owner) }
            cgroupParent = parent
        }
    }

    mutating func run() -> Never {
        // The parent may have died between its spawn call and our PDEATHSIG.
        if CurrentProcess.parentID != reaperPID { CurrentProcess.exit(0) }
        while true {
            let received: Channel.Received
            do { received = try channel.receive(nonBlocking: false) } catch { cleanupAfterReaperDeath(); CurrentProcess.exit(1) }
            switch received {
            case .wouldBlock: continue
            case .closed, .oversized:
                cleanupAfterReaperDeath()
                CurrentProcess.exit(0)
            case .frame(let bytes, let fds):
                for fd in fds { FileIO.close(fd) }
                guard let request = try? SpawnerMessage.decode(bytes) else {
                    log(.error, "malformed request from the reaper; exiting")
                    cleanupAfterReaperDeath()
                    CurrentProcess.exit(1)
                }
                handle(request)
            }
        }
    }

    mutating func handle(_ request: SpawnerMessage) {
        switch request {
        case .spawnWorker(let generation): spawnWorker(generation)
        case .spawnAgent(let role): spawnAgent(role)
        case .scan:
            let pids = scan()
            reply(.scanResult(pids: pids.prefix(16000).map { UInt32(bitPattern: $0) }))
        case .activity(let generation):
            reply(activity(generation))
        case .openSpool(let segment):
            openSpool(segment)
        case .removeCgroup(let generation):
            if let cg = cgroups.removeValue(forKey: generation) { removeCgroup(cg) }
            workerPGIDs[generation] = nil
        case .finish:
            removeControlSocket()
            for (_, cg) in cgroups { removeCgroup(cg) }
            cgroups = [:]
            CurrentProcess.exit(0)
        default:
            log(.error, "unexpected request from the reaper; exiting")
            cleanupAfterReaperDeath()
            CurrentProcess.exit(1)
        }
    }

    mutating func spawnWorker(_ generation: UInt32) {
        var cgroup: Cgroup?
        var joinFD: Int32 = -1
        var dirFD: Int32 = -1
        if let parent = cgroupParent {
            // A fresh cgroup per generation: after cgroup.kill, later joins of the same cgroup are killed at
            // birth on this kernel (6.18), see HARDENING.md section 7.
            cgroup = Cgroup.create(named: Cgroup.workerName(reaperPID: reaperPID, generation: generation), under: parent)
            joinFD = cgroup?.open("cgroup.procs", write: true) ?? -1
            if joinFD < 0 { cgroup = nil }
            // The worker starts inside it (CLONE_INTO_CGROUP), unless the directory was not ours to begin
            // with (a leftover that may have seen cgroup.kill): then it joins through cgroup.procs.
            if let cg = cgroup, cg.created { dirFD = cg.openDirectory() }
            // --max-memory: the kernel throttles the tree a little above the limit instead of OOM-killing it,
            // so the detector's graceful restart gets there first (where the memory controller is on).
            if let cg = cgroup, config.memoryHighBytes > 0, !cg.setMemoryHigh(bytes: config.memoryHighBytes) {
                log(.debug, "memory.high: no memory controller in \(cg.path); the limit is the detector's alone")
            }
        }
        defer { FileIO.close(dirFD) }
        var spec = SpawnSpec(path: config.workerPath, arguments: config.workerArguments,
                             environment: workerEnvironment(generation),
                             fdMap: [0, InheritedFD.Spawner.workerStdout, InheritedFD.Spawner.workerStderr])
        spec.cgroupProcsFD = joinFD
        spec.cgroupDirectoryFD = dirFD
        spec.expectedParent = reaperPID
        spec.parentDeathSignal = hooks.isOff("reaper-death-cleanup") ? nil : .kill
        spec.identity = config.workerIdentity
        do {
            let child = try Spawn.sibling(spec)
            FileIO.close(joinFD)
            workerPGIDs[generation] = child.pid
            var fds = [child.pidfd]
            if let cg = cgroup {
                cgroups[generation] = cg
                let procs = cg.open("cgroup.procs", write: false)
                let killFD = cg.open("cgroup.kill", write: true)
                if procs >= 0 && killFD >= 0 { fds += [procs, killFD] }
            }
            reply(.spawned(pid: UInt32(child.pid), hasCgroup: fds.count == 3), fds: fds)
            for fd in fds { FileIO.close(fd) }
        } catch {
            FileIO.close(joinFD)
            if let cg = cgroup { cg.killAndRemove() }
            let e = (error as? SystemError)?.errno ?? Errno.ioError
            reply(.failed(errno: e, detail: "cannot start \(config.workerPath): \(error)"))
        }
    }

    mutating func spawnAgent(_ role: AgentRole) {
        let name = role == .detector ? "flowforge-detector" : "flowforge-api"
        let path = agentsDirectory() + "/" + name
        let pair: (Int32, Int32)
        do { pair = try FileIO.seqpacketPair() } catch {
            reply(.failed(errno: (error as? SystemError)?.errno ?? Errno.ioError, detail: "socketpair for \(name)"))
            return
        }
        var args = [path, "--uid=\(config.agentIdentity.uid)", "--gid=\(config.agentIdentity.gid)",
                    "--log-level=\(config.logLevel.name)",
                    "--log-format=\(config.logJSON ? "json" : "text")"]
        args += role == .detector ? config.detectorArguments : config.apiArguments
        var env = ["SWIFT_BACKTRACE=enable=no", "PATH=/usr/bin:/bin"]
        for key in ["FLOWFORGE_TEST_FORBIDDEN_SYSCALL", "FLOWFORGE_TEST_DISABLE", "FLOWFORGE_TEST_REQUEST_RESTART", "FLOWFORGE_TEST_AGENT_GARBAGE", "FLOWFORGE_TEST_AGENT_HOSTILE",
                    "FLOWFORGE_TEST_SECCOMP_LOG"] {
            if let v = ProcessEnvironment.value(key) { env.append("\(key)=\(v)") }
        }
        var fdMap = DescriptorMap(stdin: devNull, stdout: 2, stderr: 2)
        fdMap.place(pair.1, at: InheritedFD.channel)
        if role == .detector {
            fdMap.place(notifyFD >= 0 ? notifyFD : devNull, at: InheritedFD.Detector.notify)
            fdMap.place(serviceManagerFD >= 0 ? serviceManagerFD : devNull, at: InheritedFD.Detector.serviceManager)
            // systemd's WATCHDOG_USEC for FlowForge itself (WATCHDOG_PID, when set, is the reaper: this process's parent).
            if serviceManagerFD >= 0, let usec = ProcessEnvironment.value("WATCHDOG_USEC").flatMap(UInt64.init), usec > 0,
               ProcessEnvironment.value("WATCHDOG_PID").flatMap(Int32.init).map({ $0 == reaperPID }) ?? true {
                args.append("--service-watchdog-usec=\(usec)")
            }
        }
        var extra: [Int32] = []
        if role == .api {
            let spool = currentSpoolPath.flatMap { try? FileIO.open($0, .readOnly) } ?? -1
            fdMap.place(spool >= 0 ? spool : devNull, at: InheritedFD.API.spool)
            if spool >= 0 { extra.append(spool) }
            if let key = apiKey, let keyPipe = try? FileIO.pipe() {
                _ = try? FileIO.writeAll(keyPipe.write, key)
                FileIO.close(keyPipe.write)
                fdMap.place(keyPipe.read, at: InheritedFD.API.apiKey)
                extra.append(keyPipe.read)
            } else {
                fdMap.place(devNull, at: InheritedFD.API.apiKey)
            }
            fdMap.place(controlFD >= 0 ? controlFD : devNull, at: InheritedFD.API.controlSocket)
        }
        defer { for fd in extra { FileIO.close(fd) } }
        var spec = SpawnSpec(path: path, arguments: args, environment: env, fdMap: fdMap.descriptors)
        spec.expectedParent = reaperPID
        do {
            let child = try Spawn.sibling(spec)
            agentPIDs[role] = child.pid
            reply(.spawned(pid: UInt32(child.pid), hasCgroup: false), fds: [child.pidfd, pair.0])
            FileIO.close(child.pidfd)
        } catch {
            let e = (error as? SystemError)?.errno ?? Errno.ioError
            reply(.failed(errno: e, detail: "cannot start \(path): \(error)"))
        }
        FileIO.close(pair.0)
        FileIO.close(pair.1)
    }

    /// The path of the spool segment being written, if the run has a spool.
    var currentSpoolPath: String? {
        guard let first = config.spoolPath, let slash = first.lastIndex(of: "/") else { return config.spoolPath }
        return String(first[...slash]) + StateDirectory.spoolName(runID: config.runID, segment: spoolSegment)
    }

    /// Creates the spool's next segment (fresh, O_EXCL | O_NOFOLLOW, 0600, in the runs directory) for the
    /// reaper, and deletes the segment that falls out of the number kept (a live run's too: a spool's size
    /// is bounded by segment size times segments kept).
    mutating func openSpool(_ segment: UInt32) {
        guard let first = config.spoolPath, let slash = first.lastIndex(of: "/"), segment > spoolSegment else {
            reply(.failed(errno: Errno.invalidArgument, detail: "no spool, or segment \(segment) is not after \(spoolSegment)"))
            return
        }
        let dir = String(first[..<slash])
        do {
            let fd = try StateDirectory.createPrivateFile(in: dir, name: StateDirectory.spoolName(runID: config.runID, segment: segment),
                                                          owner: config.stateOwner)
            spoolSegment = segment
            if segment > config.spoolKeepSegments {
                for old in (segment - config.spoolKeepSegments - 1)...(segment - config.spoolKeepSegments) where old >= 1 {
                    FileIO.unlink(dir + "/" + StateDirectory.spoolName(runID: config.runID, segment: old))
                }
            }
            reply(.spoolOpened(segment: segment), fds: [fd])
            FileIO.close(fd)
        } catch {
            reply(.failed(errno: (error as? SystemError)?.errno ?? Errno.ioError, detail: "spool segment \(segment): \(error)"))
        }
    }

    func removeControlSocket() {
        if let path = config.controlPath, controlFD >= 0 { FileIO.unlink(path) }
    }

    /// The worker's environment: ours, plus which run and generation it is (FLOWFORGE_RUN_ID, FLOWFORGE_GENERATION).
    func workerEnvironment(_ generation: UInt32) -> [String] {
        // The API key is FlowForge's, never the worker's; a NOTIFY_SOCKET FlowForge inherited (from systemd) is
        // FlowForge's too: the worker gets its own.
        let own = ["FLOWFORGE_GENERATION=", "FLOWFORGE_RUN_ID=", "FLOWFORGE_API_KEY=", "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID="]
        var env = ProcessEnvironment.current().filter { entry in !own.contains { entry.hasPrefix($0) } }
            + ["FLOWFORGE_RUN_ID=\(config.runID)", "FLOWFORGE_GENERATION=\(generation)"]
        if notifyFD >= 0 {
            env.append("NOTIFY_SOCKET=@\(notifyName)")
            // WATCHDOG_PID: the '%'s are room for the worker's own pid, written in by the child before exec.
            if config.watchdogUsec > 0 { env += ["WATCHDOG_USEC=\(config.watchdogUsec)", "WATCHDOG_PID=" + String(repeating: "%", count: 12)] }
        }
        return env
    }

    /// The abstract name of the run's notify socket.
    var notifyName: String { "flowforge/\(config.runID)/notify" }

    /// Removes a finished generation's cgroup; the reaper has already emptied it, so the kill is only a
    /// backstop. With escalation switched off (test builds) it must not rescue the drill: remove only.
    func removeCgroup(_ cg: Cgroup) {
        cg.killAndRemove(timeoutNanos: hooks.isOff("escalation") ? 0 : 2_000_000_000, kill: !hooks.isOff("escalation"))
    }

    /// Every live descendant of the reaper except the helpers: the worker's tree, including processes that
    /// left its group (setsid) and orphans the subreaper adopted.
    func scan() -> [Int32] {
        var excluded: Set<Int32> = [CurrentProcess.id]
        for pid in agentPIDs.values { excluded.insert(pid) }
        let table = ProcessTable.snapshot()
        return table.descendants(of: reaperPID, excluding: excluded).filter { table.entries[$0]?.state != "Z" }
    }

    /// What `scan()` finds, by walking the reaper's tree (`ProcessTable.tree`) instead of reading every
    /// process on the machine: for the once-a-second activity reading, not for teardown.
    func walk() -> [Int32] {
        var excluded: Set<Int32> = [CurrentProcess.id]
        for pid in agentPIDs.values { excluded.insert(pid) }
        guard let table = ProcessTable.tree(of: reaperPID, excluding: excluded) else { return scan() }
        return table.entries.values.filter { $0.state != "Z" }.map(\.pid)
    }

    /// The summed `/proc/PID/io` and context switches of `generation`'s tree: its cgroup's members when it
    /// has one, else the reaper's descendants; at most 512 processes (the silence rule needs the gist).
    func activity(_ generation: UInt32) -> SpawnerMessage {
        var pids: [Int32] = []
        if let cg = cgroups[generation] {
            let fd = cg.open("cgroup.procs", write: false)
            if fd >= 0 {
                pids = Cgroup.pids(procsFD: fd)
                FileIO.close(fd)
            }
        }
        if pids.isEmpty { pids = walk() }
        var total = ProcessActivity()
        var readable: UInt32 = 0
        for pid in pids.prefix(512) {
            guard let a = ProcessActivity.read(pid: pid) else { continue }
            total.add(a)
            readable += 1
        }
        return .activityResult(syscalls: total.syscalls, bytes: total.bytes, switches: total.voluntarySwitches, processes: readable)
    }

    /// The reaper is gone (SIGKILL, crash): take the worker's tree with it.
    func cleanupAfterReaperDeath() {
        removeControlSocket()
        if hooks.isOff("reaper-death-cleanup") { return }
        for pgid in workerPGIDs.values {
            log.sending("SIGKILL to the worker's group (pgid \(pgid))") { try Signal.kill.send(toGroup: pgid) }
        }
        for cg in cgroups.values { cg.killAndRemove() }
    }

    func reply(_ message: SpawnerMessage, fds: [Int32] = []) {
        do { try channel.send(message.encode(), fds: fds) } catch {
            cleanupAfterReaperDeath()
            CurrentProcess.exit(1)
        }
    }

    func agentsDirectory() -> String {
        config.agentsDirectory ?? ProcessEnvironment.executableDirectory()
    }
}
