// FlowForge — the API agent's process shell: sandboxed, supervised, speaking the wire protocol.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire
#if canImport(Glibc)
import Glibc
#endif

/// The API agent. The HTTP server arrives with the API work; today it holds its channel, answers the
/// reaper's protocol and proves the sandbox and respawn paths.
public enum APIAgent {
    public static func main(arguments: [String]) -> Never {
        var runtime = AgentRuntime.start(role: .api, policy: .api, arguments: arguments)
        TestProbe.attemptIfAsked(role: "api")
        runtime.run(handle: { _ in }, tick: {})
        exit(0)
    }
}
