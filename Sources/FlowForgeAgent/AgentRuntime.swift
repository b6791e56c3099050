// FlowForge — what every agent does: drop privileges first, greet the reaper, heartbeat, exit on EOF.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The agent side of a reaper channel (`InheritedFD.channel`), shared by the detector and the API agent.
///
/// - Important: `start` must run as the first statements of `main`, before any thread exists: capabilities
///   and no-new-privs are per-thread.
public struct AgentRuntime: Sendable {
    public let role: AgentRole
    public let channel = Channel(fd: InheritedFD.channel)
    public let logLevel: Int
    /// FlowForge's own messages as JSON lines (`--log-format=json`).
    public var logJSON = false
    public private(set) var runID = ""
    public private(set) var reaperPID: Int32 = 0
    /// The parent (the reaper), read before the filter: getppid is not on the agents' allowlists.
    public let parentPID: Int32
    /// Options the agent did not recognise as runtime options, for the role's own parser.
    public let extraArguments: [String]

    /// Parses `--uid= --gid= --log-level=`, then sandboxes this process with `policy`.
    public static func start(role: AgentRole, policy: SeccompPolicy, arguments: [String]) -> AgentRuntime {
        var uid: UInt32 = 65534, gid: UInt32 = 65534, level = 2, json = false
        var extra: [String] = []
        for arg in arguments {
            if arg.hasPrefix("--uid="), let v = UInt32(arg.dropFirst(6)) { uid = v }
            else if arg.hasPrefix("--gid="), let v = UInt32(arg.dropFirst(6)) { gid = v }
            else if arg == "--log-format=json" { json = true }
            else if arg == "--log-format=text" { json = false }
            else if arg.hasPrefix("--log-level=") {
                level = ["error": 0, "warn": 1, "info": 2, "debug": 3][String(arg.dropFirst(12))] ?? 2
            } else { extra.append(arg) }
        }
        let parent = CurrentProcess.parentID
        do {
            var enforcement = Sandbox.Enforcement.kill
            #if DEBUG
            // Measurement only: FLOWFORGE_TEST_SECCOMP_LOG=api logs violations (dmesg type=1326) instead of killing.
            if ProcessEnvironment.list("FLOWFORGE_TEST_SECCOMP_LOG", contains: "\(role)") { enforcement = .log }
            #endif
            try Sandbox.enterAgent(policy: policy, uid: uid, gid: gid, expectedParent: parent, enforcement: enforcement)
        } catch {
            try? FileIO.writeAll(2, "flowforge[\(role) \(CurrentProcess.id)]: error: cannot sandbox: \(error)\n")
            CurrentProcess.exit(FlowForgeExitCode.internalFailure)
        }
        var runtime = AgentRuntime(role: role, logLevel: level, extraArguments: extra, parentPID: parent)
        runtime.logJSON = json
        return runtime
    }

    init(role: AgentRole, logLevel: Int, extraArguments: [String], parentPID: Int32) {
        self.parentPID = parentPID
        self.role = role
        self.logLevel = logLevel
        self.extraArguments = extraArguments
    }

    public func log(_ level: Int, _ message: @autoclosure () -> String) {
        guard level <= logLevel else { return }
        if logJSON {
            try? FileIO.writeAll(2, Event.jsonLogLine(level: ["error", "warn", "info", "debug"][max(0, min(3, level))],
                                                      component: "\(role)", pid: CurrentProcess.id, message: message(), wallNanos: Clock.wallNanos()))
            return
        }
        try? FileIO.writeAll(2, "flowforge[\(role) \(CurrentProcess.id)]: \(level == 0 ? "error: " : level == 1 ? "warning: " : "")\(message())\n")
    }

    public func send(_ message: Message) -> Bool {
        (try? channel.send(message.encode(), nonBlocking: false)) == true
    }

    /// How often an agent tells the reaper it is alive (the reaper drops one silent for 10 s).
    static let heartbeatNanos: UInt64 = 3_000_000_000

    /// Greets the reaper, then calls `handle` for every message and `tick` after each round; `tick` returns
    /// how many milliseconds it may wait until its next call at most (nil: until the next heartbeat). An idle
    /// agent wakes for its heartbeat and for what its tick asks, not on a fixed period (fifty runs' agents
    /// polling every second were a measurable part of an idle fleet's CPU).
    /// Returns when the reaper closes the channel (it exited or dropped us).
    public mutating func run(handle: (Message) -> Void, tick: () -> Int32?) {
        run(extra: -1, onExtra: {}, handle: handle, tick: tick)
    }

    /// `run(handle:tick:)`, also calling `onExtra` whenever `extra` (another descriptor the agent reads, such as
    /// the detector's notify socket) is readable; -1 for none.
    public mutating func run(extra: Int32, onExtra: () -> Void, handle: (Message) -> Void, tick: () -> Int32?) {
        guard send(.hello(role: role, pid: UInt32(CurrentProcess.id))) else { return }
        if TestProbe.sendsGarbage(role: "\(role)") {
            _ = try? channel.send([0x46, 0x46, 1, 0xEE, 0, 0, 0, 3, 1, 2, 3])
        }
        var hostile = TestProbe.isHostile(role: "\(role)")
        var lastHeartbeat = Clock.monotonicNanos()
        var tickWants: Int32? = 0
        while true {
            let sinceHeartbeat = Clock.monotonicNanos() &- lastHeartbeat
            let untilHeartbeat = Int32(clamping: (Self.heartbeatNanos &- min(sinceHeartbeat, Self.heartbeatNanos)) / 1_000_000 + 1)
            // A failed poll is treated as a timeout, as it always was: the channel's own receive reports a
            // descriptor that went bad, and the heartbeat below still goes out.
            let timeout = max(0, min(untilHeartbeat, tickWants ?? untilHeartbeat))
            var watched = [PollDescriptor(fd: channel.fd, events: .readable), PollDescriptor(fd: extra, events: .readable)]
            if (try? Poll.wait(&watched, timeoutMillis: timeout)) == nil { watched[0].revents = []; watched[1].revents = [] }
            if extra >= 0 && !watched[1].revents.isEmpty { onExtra() }
            if !watched[0].revents.isEmpty {
                // Bounded per round: a worker flooding output must not starve heartbeats and sampling.
                for _ in 0..<256 {
                    guard let received = try? channel.receive() else { return }
                    switch received {
                    case .wouldBlock: break
                    case .closed: return
                    case .oversized:
                        log(0, "oversized frame from the reaper")
                        return
                    case .frame(let bytes, let fds):
                        for fd in fds { FileIO.close(fd) }
                        guard let message = try? Message.decode(bytes) else {
                            log(0, "malformed frame from the reaper")
                            return
                        }
                        if case .welcome(let run, let reaper, _, _) = message {
                            runID = run
                            reaperPID = Int32(bitPattern: reaper)
                            if hostile {
                                hostile = false
                                for m in TestProbe.hostileMessages(runID: run) { _ = send(m) }
                            }
                        }
                        if case .stopping = message { return }
                        handle(message)
                        continue
                    }
                    break
                }
            }
            let now = Clock.monotonicNanos()
            if now &- lastHeartbeat >= Self.heartbeatNanos {
                guard send(.heartbeat) else { return }
                lastHeartbeat = now
            }
            tickWants = tick()
        }
    }
}
