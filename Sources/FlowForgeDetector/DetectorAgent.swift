// FlowForge — the sampler/detector agent: receives the worker's output copy and lifecycle, keeps counters.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAgent
import FlowForgeSystem
import FlowForgeWire
#if canImport(Glibc)
import Glibc
#endif

/// The detector agent's main loop. Detection logic arrives with the runaway-detection work; today it
/// tracks the worker's generation and the output it was sent.
public enum DetectorAgent {
    public static func main(arguments: [String]) -> Never {
        var runtime = AgentRuntime.start(role: .detector, policy: .detector, arguments: arguments)
        TestProbe.attemptIfAsked(role: "detector")
        var outputBytes: UInt64 = 0
        var generation: UInt32 = 0
        let channel = runtime.channel
        let restartAt = TestProbe.restartRequestGeneration()
        var sendRestart = false
        runtime.run(handle: { message in
            switch message {
            case .welcome(_, _, _, let g): generation = g
                sendRestart = g != 0 && g == restartAt
            case .workerStarted(let g, _, _, _): generation = g
                sendRestart = g == restartAt
            case .output(_, _, let bytes): outputBytes &+= UInt64(bytes.count)
            default: break
            }
        }, tick: {
            if sendRestart {
                sendRestart = false
                _ = try? channel.send(Message.actionRequest(id: 1, kind: .restart, generation: generation, reason: "test hook").encode())
            }
        })
        runtime.log(3, "exiting: generation \(generation), \(outputBytes) output bytes analysed")
        exit(0)
    }
}
