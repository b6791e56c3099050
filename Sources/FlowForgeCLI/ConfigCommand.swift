// FlowForge — `flowforge config check|show`: validate a config file, print the effective configuration.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import Foundation

/// `flowforge config`: the config file's two operator commands.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a config file, or show the effective configuration.",
        subcommands: [Check.self, Show.self]
    )

    /// `flowforge config check FILE`.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a config file: unknown keys, wrong types and out-of-range values are errors naming the key and line.",
            discussion: "Example:\n  flowforge config check config/flowforge.yaml"
        )

        @Argument(help: "The YAML config file.")
        var file: String

        func run() throws {
            let programs: [Program]
            do {
                programs = try SettingsResolver.resolve(configPath: file, given: []).programs
                // Each program's settings as its instances will resolve them (max_cpu against the cores, ...).
                for p in programs { _ = try SettingsResolver.resolve(configPath: file, given: [], program: p.name) }
            } catch let error as ValidationError {
                FileHandle.standardError.write(Data("\(error.message)\n".utf8))
                throw ExitCode(1)
            }
            let listed = programs.map { "\($0.name) x\($0.instances)" }.joined(separator: ", ")
            print("\(file): ok\(programs.isEmpty ? "" : " (programs: \(listed))")")
        }
    }

    /// `flowforge config show [--config FILE]`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration (defaults, then the file, then FLOWFORGE_* variables), with each value's origin.",
            discussion: "Example:\n  FLOWFORGE_MAX_CPU=70 flowforge config show --config config/flowforge.yaml"
        )

        @Option(help: "A config file to apply (also FLOWFORGE_CONFIG).")
        var config: String?

        func run() throws {
            print(try SettingsResolver.resolve(configPath: config, given: []).yaml(), terminator: "")
        }
    }
}
