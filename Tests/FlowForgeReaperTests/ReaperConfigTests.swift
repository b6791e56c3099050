// FlowForge — the reaper's hand-parsed command line: round trips, and clear errors for anything else.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeReaper
import Testing

@Suite("Reaper command line")
struct ReaperConfigTests {
    @Test func roundTrip() throws {
        let args = ["--grace-ms=1500", "--agent-user=65534:65534", "--run-id=r1", "--log-level=debug",
                    "--detector-arg=--max-cpu=85", "--cgroup=off", "--", "/bin/sh", "sh", "-c", "echo hi"]
        let config = try ReaperConfig(arguments: args)
        #expect(config.graceNanos == 1_500_000_000)
        #expect(config.workerPath == "/bin/sh")
        #expect(config.workerArguments == ["sh", "-c", "echo hi"])
        #expect(!config.useCgroup)
        #expect(try ReaperConfig(arguments: config.arguments) == config)
    }

    @Test(arguments: [
        ["--", "relative/path", "x"],
        ["--grace-ms=abc", "--", "/bin/true", "true"],
        ["--grace-ms=-5", "--", "/bin/true", "true"],
        ["--bogus=1", "--", "/bin/true", "true"],
        ["--agent-user=nobody", "--", "/bin/true", "true"],
        ["--log-level=loud", "--", "/bin/true", "true"],
        ["stray", "--", "/bin/true", "true"],
        ["--", "/bin/true"],
        [],
    ])
    func rejects(_ args: [String]) {
        #expect(throws: ConfigError.self) { try ReaperConfig(arguments: args) }
    }
}
