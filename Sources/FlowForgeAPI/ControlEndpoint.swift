// FlowForge — a run's control endpoint: the dashboard asks the run's API agent over a 0600 Unix socket.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import FlowForgeSystem
import FlowForgeWire
import Foundation
import Synchronization

/// Serves one JSON request per connection on the run's control socket (created by the spawner, mode 0600,
/// so only FlowForge's own user can connect):
/// `{"op":"status"}` → the run; `{"op":"restart"|"kill","reason":"..."}` → the action's reply.
final class ControlEndpoint: Sendable {
    let fd: Int32
    let state: RunState
    let sink: ChannelSink

    init(fd: Int32, state: RunState, sink: ChannelSink) {
        self.fd = fd
        self.state = state
        self.sink = sink
    }

    static func isListening(_ fd: Int32) -> Bool { UnixSocket.isListening(fd) }

    func serve() {
        while true {
            let client: Int32
            switch UnixSocket.accept(fd) {
            case .success(let fd): client = fd
            case .failure(let error) where error.errno == Errno.connectionAborted: continue
            case .failure: return
            }
            let reply = respond(to: UnixSocket.readLine(client))
            let data = (try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])) ?? Data("{}".utf8)
            _ = try? FileIO.writeAll(client, String(decoding: data, as: UTF8.self) + "\n")
            FileIO.close(client)
        }
    }

    func respond(to line: String?) -> [String: Any] {
        guard let line, let request = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let op = request["op"] as? String else { return ["error": "expected one JSON object with \"op\""] }
        switch op {
        case "status":
            return RunSource(state: state, metrics: nil).runs().first ?? [:]
        case "restart", "kill":
            guard let reason = request["reason"] as? String, !reason.isEmpty, reason.utf8.count <= APILimits.maxReason else {
                return ["error": "\"reason\" must be a non-empty string of at most \(APILimits.maxReason) bytes"]
            }
            guard state.liveWorker != nil else { return ["error": "no live process to act on", "code": 409] }
            let done = DispatchSemaphore(value: 0)
            let box = Mutex<ActionReply?>(nil)
            let sink = self.sink
            Task {
                let reply = await sink.act(kind: op == "restart" ? .restart : .kill, reason: reason)
                box.withLock { $0 = reply }
                done.signal()
            }
            done.wait()
            guard let reply = box.withLock({ $0 }) else { return ["error": "no reply"] }
            guard reply.accepted else { return ["error": reply.detail, "code": 409] }
            return ["status": "accepted", "action_id": "\(reply.actionID)", "incident_id": reply.incidentID, "detail": reply.detail]
        default:
            return ["error": "unknown op '\(op.prefix(40))'"]
        }
    }
}
