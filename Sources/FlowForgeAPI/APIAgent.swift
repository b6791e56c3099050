// FlowForge — the API agent: sandboxed first, then the reaper's channel on a thread of its own (its welcome
// brings the run's history from the spool), and the HTTP server.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAgent
import FlowForgeMetrics
import FlowForgeModel
import FlowForgeSystem
import FlowForgeWire
import Foundation
import Hummingbird
import Logging
import Synchronization

/// The `flowforge-api` executable. Without `--listen` it only keeps its channel (the run serves no HTTP).
public enum APIAgent {
    /// Synchronous on purpose: an `async` main starts the concurrency runtime's threads before the sandbox,
    /// and those threads would keep the capabilities the sandbox drops (they are per thread).
    public static func main(arguments: [String]) -> Never {
        let assets = DashboardAssets.load() // before the sandbox: the agent opens no files afterwards
        // The listening socket too: the filter has no socket, bind or listen (and no resolver) for the API.
        let listen = arguments.last { $0.hasPrefix("--listen=") }.map { String($0.dropFirst(9)) }
        let address = listen.flatMap(parseAddress)
        let listener = address.map { a in Result { try ListeningSocket.bind(host: a.0, port: a.1) } }
        var runtime = AgentRuntime.start(role: .api, policy: .api, arguments: arguments)
        TestProbe.attemptIfAsked(role: "api")
        if let listen, case .failure(let error) = listener {
            // As when the server bound its own socket: the reaper respawns the agent with backoff.
            runtime.log(0, "HTTP server on \(listen): \(error)")
            exit(FlowForgeExitCode.internalFailure)
        }
        var allowedHosts: [String] = []
        var requireKeyForReads = false
        for arg in runtime.extraArguments {
            if arg.hasPrefix("--allowed-host=") { allowedHosts.append(String(arg.dropFirst(15))) }
            if arg == "--require-key-for-reads" { requireKeyForReads = true }
        }
        let key = readAll(fd: InheritedFD.API.apiKey).flatMap { String(decoding: $0, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) }
        let state = RunState()
        let metrics = APIMetrics(.run { (state.runID, state.name) })
        let sink = ChannelSink(channel: runtime.channel, state: state)
        if ControlEndpoint.isListening(InheritedFD.API.controlSocket) {
            let control = ControlEndpoint(fd: InheritedFD.API.controlSocket, state: state, sink: sink)
            Thread { control.serve() }.start()
        }
        let historyRead = Atomic(false)
        let handle: @Sendable (Message) -> Void = { message in
            switch message {
            case .welcome(let run, let reaper, let pid, let g) where !historyRead.exchange(true, ordering: .relaxed):
                state.setRun(run, workerPID: Int32(bitPattern: pid), generation: g, reaperPID: Int32(bitPattern: reaper))
                // The history, read only now: the reaper sends an agent events from its welcome on, so an event
                // recorded between an earlier read and the welcome (a worker's first READY=1, say) would be in
                // neither. Read after it, the spool and the channel overlap instead, and `ingest` keeps each once.
                SpoolTail.read(fd: InheritedFD.API.spool) { line in
                    if let e = TimelineEvent(jsonLine: line), state.ingest(e) { metrics.count(e) }
                }
            case .event(let event):
                let e = TimelineEvent(event, runID: state.runID)
                if state.ingest(e) { metrics.count(e) }
            case .actionResult(let id, let outcome, let detail): sink.resolve(id, outcome: outcome, detail: detail)
            case .outputDropped(let total): state.setDropped(total)
            default: break
            }
        }
        guard let (host, _) = address, case .success(let socket) = listener else {
            runtime.run(handle: handle, tick: { nil })
            exit(0)
        }
        let channelRuntime = runtime
        Thread {
            var rt = channelRuntime
            rt.run(handle: handle, tick: { nil })
            // The reaper is exiting (or dropped us): give in-flight responses, such as the 202 of the kill that
            // ended the run, a moment to reach their clients. The reaper waits for its agents as long.
            usleep(300_000)
            exit(0)
        }.start()
        var logger = Logger(label: "flowforge.api")
        logger.logLevel = runtime.logLevel >= 3 ? .debug : .warning
        let context = APIContext(source: RunSource(state: state, metrics: metrics), sink: sink, apiKey: key, dashboard: assets,
                                 hosts: HostAllowlist(listenHost: host, extra: allowedHosts), requireKeyForReads: requireKeyForReads)
        let server = PreboundServer(listeningSocket: socket, router: APIRoutes.router(context), logger: logger)
        Task {
            await server.serve()
            exit(0)
        }
        dispatchMain()
    }

    public static func parseAddress(_ s: String) -> (String, Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// Everything readable from an inherited descriptor (the spool, the key pipe); nil when it is not open.
    static func readAll(fd: Int32) -> [UInt8]? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return out.isEmpty ? nil : out }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        close(fd)
        return out
    }
}

/// Operator actions through the reaper's channel; replies are matched by action id.
final class ChannelSink: ActionSink {
    let channel: FlowForgeSystem.Channel
    let state: RunState
    let pending = Mutex<[UInt64: CheckedContinuation<(ActionOutcome, String), Never>]>([:])

    init(channel: FlowForgeSystem.Channel, state: RunState) {
        self.channel = channel
        self.state = state
    }

    func act(kind: ActionKind, reason: String, runID: String?) async -> ActionResult {
        if let runID, runID != state.runID { return .unknownRun(runID) }
        guard state.liveWorker != nil else { return .noLiveRun }
        let reply = await act(kind: kind, reason: reason)
        if !reply.accepted && (reply.detail.contains("did not answer") || reply.detail.contains("channel is closed")) {
            return .unavailable(reply.detail)
        }
        return .done(reply)
    }

    func act(kind: ActionKind, reason: String) async -> ActionReply {
        // Operator incidents are "<run>-op<id>", the detector's "<run>-<id>": the numbers may overlap.
        let id = state.nextActionID()
        let (outcome, detail) = await withCheckedContinuation { (c: CheckedContinuation<(ActionOutcome, String), Never>) in
            pending.withLock { $0[id] = c }
            let sent = (try? channel.send(Message.actionRequest(id: id, kind: kind, generation: 0, reason: reason).encode())) == true
            if !sent { resolve(id, outcome: .rejected, detail: "the reaper's channel is closed") }
            Task {
                try? await Task.sleep(for: .seconds(5))
                self.resolve(id, outcome: .rejected, detail: "the reaper did not answer within 5 s")
            }
        }
        return ActionReply(actionID: id, incidentID: "\(state.runID)-op\(id)", accepted: outcome != .rejected, detail: detail)
    }

    func resolve(_ id: UInt64, outcome: ActionOutcome, detail: String) {
        let c = pending.withLock { $0.removeValue(forKey: id) }
        c?.resume(returning: (outcome, detail))
    }
}
