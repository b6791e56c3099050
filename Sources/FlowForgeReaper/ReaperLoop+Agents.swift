// FlowForge — supervising the agents: start through the spawner, strict frames, liveness, respawn with backoff.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

extension ReaperLoop {
    func requestAgent(_ role: AgentRole) {
        guard agents[role]?.requested == false else { return }
        agents[role]?.requested = true
        agents[role]?.respawnAt = nil
        sendSpawner(.spawnAgent(role: role), expecting: .agent(role))
    }

    func agentSpawned(_ role: AgentRole, pid: Int32, pidfd: Int32, channel: Int32, now: UInt64) {
        guard var slot = agents[role] else { return }
        slot.pid = pid
        slot.pidfd = pidfd
        slot.channel = Channel(fd: channel)
        slot.greeted = false
        slot.startedAt = now
        slot.lastHeard = now
        slot.requested = false
        slot.gate.agentRestarted()
        agents[role] = slot
        log(.debug, "\(role) agent started: pid \(pid)")
        // Agents exclude their siblings from the worker's tree: tell the greeted ones about the new PID.
        for (other, s) in agents where other != role && s.greeted { sendRunFacts(to: other) }
    }

    func readAgent(_ role: AgentRole, revents: PollEvents) {
        guard let channel = agents[role]?.channel else { return }
        for _ in 0..<64 { // bounded per round so one chatty agent cannot starve the loop
            let received: Channel.Received
            do { received = try channel.receive() } catch { received = .closed }
            switch received {
            case .wouldBlock: return
            case .closed:
                disconnect(role, why: "channel closed")
                return
            case .oversized:
                disconnect(role, why: "protocol violation: oversized frame")
                return
            case .frame(let bytes, let fds):
                for fd in fds { FileIO.close(fd) } // agents never send descriptors
                guard fds.isEmpty else {
                    disconnect(role, why: "protocol violation: descriptors attached")
                    return
                }
                let message: Message
                do { message = try Message.decode(bytes) } catch {
                    disconnect(role, why: "protocol violation: \(error)")
                    return
                }
                agents[role]?.lastHeard = Clock.monotonicNanos()
                if !handleAgentMessage(role, message) { return }
            }
        }
    }

    /// Returns false when the agent was disconnected.
    private func handleAgentMessage(_ role: AgentRole, _ message: Message) -> Bool {
        let greeted = agents[role]?.greeted ?? false
        switch message {
        case .hello(let claimed, _) where !greeted:
            guard claimed == role else {
                disconnect(role, why: "protocol violation: hello as \(claimed) on the \(role) channel")
                return false
            }
            agents[role]?.greeted = true
            let w = worker
            send(.welcome(runID: config.runID, reaperPID: UInt32(CurrentProcess.id), workerPID: UInt32(w?.pid ?? 0),
                          generation: w?.generation ?? 0), to: role)
            sendRunFacts(to: role)
            return true
        case .heartbeat where greeted:
            send(.outputDropped(totalBytes: droppedAnalysisBytes), to: role)
            return true
        case .actionRequest(let id, _, _, _) where greeted && agents[role]?.gate.admitRequest(now: Clock.monotonicNanos()) == .drop(.rate):
            send(.actionResult(id: id, outcome: .rejected, detail: "too many requests: at most \(Int(AgentEventGate.perSecond)) a second"), to: role)
            return true
        case .actionRequest(let id, let kind, let generation, let reason) where greeted:
            handleActionRequest(ActionRequest(role: role, id: id, kind: kind, generation: generation, reason: reason))
            return true
        case .event(let event) where greeted:
            // Agents' records (detections, samples) go to the events file and to the other agents, once the
            // gate agrees (kinds of the role, incident ids, rate), stamped with the reaper's clock: an agent's
            // time is not trusted (nor needed: it sent the event just now).
            guard agents[role]?.gate.admit(event, currentGeneration: machine.generation, now: Clock.monotonicNanos()) == .accept else {
                return true
            }
            let stamped = (try? FlowForgeWire.Event(kind: event.kind, generation: event.generation,
                                                    wallNanos: Clock.wallNanos(), fields: event.fields)) ?? event
            publish(stamped, except: role)
            // The next activity reading is for the detector's next sample, whenever that comes.
            if role == .detector && event.kind == EventKind.sample.rawValue { activityWanted = true }
            return true
        default:
            disconnect(role, why: "protocol violation: unexpected \(message.kindName) from the \(role) agent")
            return false
        }
    }

    /// Carries out what the request policy and the state machine decide: record the request, let the machine
    /// accept or refuse it, record the decision; an accepted request opens its incident.
    private func handleActionRequest(_ request: ActionRequest) {
        let policy = ActionRequestPolicy(rollout: config.rollout, detectorEnforced: detectorEnforced)
        let incident = incidents.id(for: request.role, actionID: request.id)
        let canAct = !machine.isStopping && machine.current != nil
        switch policy.plan(request, incident: incident, canAct: canAct, workerPID: worker?.pid ?? 0) {
        case .answered(let steps):
            perform(steps, for: request)
        case .decide(let before, let incident):
            perform(before, for: request)
            let actions = machine.handle(.actionRequested(id: request.id, kind: request.kind, generation: request.generation,
                                                          reason: request.reason), now: Clock.monotonicNanos())
            let accepted = actions.contains { if case .reply(_, .accepted, _) = $0 { true } else { false } }
            if accepted { incidents.open(incident) }
            perform(policy.settle(request, incident: incident, accepted: accepted), for: request)
            execute(actions)
        }
    }

    private func perform(_ steps: [ActionRequestPolicy.Step], for request: ActionRequest) {
        let g = worker?.generation ?? 0
        for step in steps {
            switch step {
            case .emit(let kind, let incident, let fields): emit(kind, generation: g, incident: incident, fields: fields)
            case .reply(let outcome, let detail): send(.actionResult(id: request.id, outcome: outcome, detail: detail), to: request.role)
            case .log(let level, let text): log(level, text)
            }
        }
    }

    /// Drops the channel and kills the agent; the respawn follows its exit.
    func disconnect(_ role: AgentRole, why: String) {
        guard var slot = agents[role] else { return }
        log(.warn, "\(role) agent (pid \(slot.pid)): \(why); restarting it")
        if let ch = slot.channel { FileIO.close(ch.fd) }
        slot.channel = nil
        slot.greeted = false
        if slot.pidfd >= 0 { log.sending("SIGKILL to the \(role) agent (pid \(slot.pid))") { try Pidfd.signal(slot.pidfd, .kill) } }
        agents[role] = slot
        emit(.agentDisconnected, generation: worker?.generation ?? 0, fields: ["agent": "\(role)", "why": why])
    }

    func agentExited(_ role: AgentRole, status: ExitStatus) {
        guard var slot = agents[role] else { return }
        let now = Clock.monotonicNanos()
        if let ch = slot.channel { FileIO.close(ch.fd) }
        FileIO.close(slot.pidfd)
        let signalNote: String
        if case .signaled(let s) = status, s == Signal.badSystemCall.rawValue { signalNote = " (SIGSYS: seccomp filter)" } else { signalNote = "" }
        log(.warn, "\(role) agent (pid \(slot.pid)) exited: \(statusText(status))\(signalNote)")
        slot.channel = nil
        slot.greeted = false
        slot.pidfd = -1
        slot.pid = 0
        if hooks.isOff("agent-respawn") {
            slot.respawnAt = nil
            slot.requested = true // never again
        } else {
            slot.scheduleRespawn(now: now)
        }
        agents[role] = slot
        emit(.agentExited, generation: worker?.generation ?? 0,
             fields: ["agent": "\(role)", "status": statusText(status)])
    }

    /// Respawns agents whose backoff elapsed, kills agents that went silent, reports dropped messages.
    func checkAgents(now: UInt64) {
        for role in agents.keys { reportRejections(role, now: now) }
        for (role, slot) in agents {
            if let at = slot.respawnAt, now >= at, spawnerAlive {
                log(.info, "respawning the \(role) agent")
                requestAgent(role)
            } else if slot.channel != nil, now &- slot.lastHeard > AgentSlot.silenceLimit {
                disconnect(role, why: "silent for \(AgentSlot.silenceLimit / 1_000_000_000) s (hung)")
            }
        }
    }

    /// One `agent.rejected` event (and a warning) per agent per interval, with what the gate dropped since.
    func reportRejections(_ role: AgentRole, now: UInt64, force: Bool = false) {
        guard var slot = agents[role], force || now &- slot.rejectionsReportedAt >= AgentSlot.rejectionReportInterval else { return }
        let pending = slot.gate.takePending()
        guard !pending.isEmpty else { return }
        slot.rejectionsReportedAt = now
        agents[role] = slot
        let dropped = pending.values.reduce(0, +)
        let reasons = pending.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ",")
        log(.warn, "\(role) agent: dropped \(dropped) message(s) the reaper does not accept from it (\(reasons))")
        emit(.agentRejected, generation: worker?.generation ?? 0,
             fields: ["agent": "\(role)", "dropped": "\(dropped)", "reasons": reasons, "dropped_total": "\(slot.gate.total)"])
    }

    /// What a newly greeted agent needs beyond the welcome: the run's policy and the helpers' PIDs.
    func sendRunFacts(to role: AgentRole) {
        var policy = ["mode": config.rollout.rawValue, "enforced": detectorEnforced ? "true" : "false"]
        policy["canary_percent"] = "\(config.canaryPercent)"
        // A respawned detector numbers its incidents above every number already used in this run.
        if let base = agents[role]?.gate.highestIncident { policy["incident_base"] = "\(base)" }
        var helpers = ["spawner_pid": "\(spawnerPID)"]
        for (r, slot) in agents where slot.pid > 0 { helpers["\(r)_pid"] = "\(slot.pid)" }
        for (kind, fields) in [(EventKind.runPolicy, policy), (.runHelpers, helpers)] {
            let list = fields.sorted { $0.key < $1.key }.map { Field(key: $0.key, value: $0.value) }
            if let event = try? FlowForgeWire.Event(kind: kind, generation: worker?.generation ?? 0, wallNanos: Clock.wallNanos(), fields: list) {
                send(.event(event), to: role)
            }
        }
    }

    func send(_ message: Message, to role: AgentRole) {
        guard let ch = agents[role]?.readyChannel else { return }
        _ = try? ch.send(message.encode(), nonBlocking: true)
    }

    func broadcast(_ message: Message) {
        let frame = message.encode()
        for slot in agents.values {
            if let ch = slot.readyChannel { _ = try? ch.send(frame, nonBlocking: true) }
        }
    }
}

extension Message {
    /// A short name for logs.
    var kindName: String {
        switch self {
        case .hello: "hello"
        case .welcome: "welcome"
        case .heartbeat: "heartbeat"
        case .workerStarted: "workerStarted"
        case .workerExited: "workerExited"
        case .output: "output"
        case .outputDropped: "outputDropped"
        case .actionRequest: "actionRequest"
        case .actionResult: "actionResult"
        case .event: "event"
        case .stopping: "stopping"
        case .testForbiddenSyscall: "testForbiddenSyscall"
        }
    }
}

extension AgentRole: CustomStringConvertible {
    public var description: String { self == .detector ? "detector" : "api" }
}
