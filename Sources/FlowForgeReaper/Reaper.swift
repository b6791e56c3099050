// FlowForge — the reaper's entry: set up as subreaper, start the spawner, sandbox, then run the loop.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The `flowforge-reaper` executable: the reaper role by default, the spawner role with `--role=spawner`.
public enum Reaper {
    public static func run(arguments: [String]) -> Never {
        let config: ReaperConfig
        do { config = try ReaperConfig(arguments: arguments) } catch {
            try? FileIO.writeAll(2, "flowforge-reaper: \(error)\n")
            CurrentProcess.exit(FlowForgeExitCode.internalUsage)
        }
        switch config.role {
        case .spawner:
            var spawner = Spawner(config: config)
            spawner.run()
        case .reaper:
            CurrentProcess.exit(runReaper(config))
        }
    }

    static func runReaper(_ config: ReaperConfig) -> Int32 {
        let hooks = TestHooks.fromEnvironment()
        let log = Log(level: config.logLevel, name: "reaper \(CurrentProcess.id)", json: config.logJSON)
        func fail(_ what: String, _ error: any Error) -> Int32 {
            log(.error, "\(what): \(error)")
            return FlowForgeExitCode.internalFailure
        }
        // 1. Orphans of the worker's tree reparent to us, not to init.
        do { try CurrentProcess.becomeChildSubreaper() } catch { return fail("PR_SET_CHILD_SUBREAPER", error) }
        // 2. Signals become readable events; handlers never run.
        let signalFD: Int32
        do { signalFD = try SignalFD.open() } catch { return fail("signalfd", error) }
        do {
            // 3. The worker's output pipes (kept across generations) and the spawner's channel.
            let out = try FileIO.pipe()
            let err = try FileIO.pipe()
            // Cannot fail on a pipe we just made; were it to, the relay would block on an empty pipe, so startup
            // fails instead.
            try FileIO.setNonBlocking(out.read)
            try FileIO.setNonBlocking(err.read)
            // 1 MiB pipes (the unprivileged maximum by default) instead of 64 KiB: a worker writing fast
            // wakes the reaper once per batch rather than once per few pages. Best effort.
            _ = try? FileIO.setPipeSize(out.write, 1 << 20)
            _ = try? FileIO.setPipeSize(err.write, 1 << 20)
            let (mine, theirs) = try FileIO.seqpacketPair()
            // 4. The spawner: the same binary, started before we sandbox ourselves, so what it creates
            //    inherits neither our filter nor our dropped capabilities.
            var spawnerConfig = config
            spawnerConfig.role = .spawner
            var fdMap = DescriptorMap(stdin: 0, stdout: 2, stderr: 2)
            fdMap.place(theirs, at: InheritedFD.channel)
            fdMap.place(out.write, at: InheritedFD.Spawner.workerStdout)
            fdMap.place(err.write, at: InheritedFD.Spawner.workerStderr)
            if let keyFD = config.apiKeyFD {
                spawnerConfig.apiKeyFD = InheritedFD.Spawner.apiKey // the spawner reads the key; we keep no copy
                fdMap.place(keyFD, at: InheritedFD.Spawner.apiKey)
            }
            let selfPath = "/proc/self/exe"
            var spec = SpawnSpec(path: selfPath, arguments: ["flowforge-reaper"] + spawnerConfig.arguments,
                                 environment: ProcessEnvironment.current(), fdMap: fdMap.descriptors)
            // The spawner must outlive us long enough to clean up after a SIGKILL of the reaper: it watches
            // its channel for EOF instead of dying by PDEATHSIG.
            spec.parentDeathSignal = nil
            let spawner = try Spawn.child(spec)
            FileIO.close(spawner.pidfd)
            FileIO.close(theirs)
            FileIO.close(out.write)
            FileIO.close(err.write)
            if let keyFD = config.apiKeyFD { FileIO.close(keyFD) }
            let ownGroup = CurrentProcess.groupID
            // Whether our stdout/stderr are pipes (splice-able), asked before the filter (fstat is not on it).
            let sinksArePipes = (FileIO.isPipe(1), FileIO.isPipe(2))
            // 5. Drop privileges, then the filter. Everything opened from here on came from the spawner.
            try Sandbox.enterReaper(enforcement: config.seccompLogOnly ? .log : .kill)
            if TestHooks.wantsForbiddenSyscall(role: "reaper") {
                _ = Sandbox.attemptForbiddenSyscall()
            }
            let loop = ReaperLoop(config: config, hooks: hooks, signalFD: signalFD, spawner: Channel(fd: mine),
                                  spawnerPID: spawner.pid, stdoutSource: out.read, stderrSource: err.read, sinksArePipes: sinksArePipes,
                                  ownGroup: ownGroup)
            return loop.run()
        } catch {
            return fail("startup", error)
        }
    }
}
