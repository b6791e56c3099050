// FlowForge — the `flowforge` command: the root and its subcommands.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// `flowforge`: supervise a worker and stop it when it runs away.
public struct FlowForgeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flowforge",
        abstract: "Supervise a worker process and stop it when it runs away.",
        discussion: """
            Examples:
              flowforge run -- python3 worker.py
              flowforge run --grace 10 -- ./job.sh --queue main
              flowforge up --config fleet.yaml && flowforge ps
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, UpCommand.self, PsCommand.self, StopCommand.self, RestartCommand.self, UpdateCommand.self, LogsCommand.self,
                      DashboardCommand.self, DemoCommand.self, ReplayCommand.self, ConfigCommand.self,
                      DemoWorkerCommand.self, SeccompProbeCommand.self, LogWriterCommand.self]
    )

    public init() {}
}
