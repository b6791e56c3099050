// FlowForge — starting one program instance: `flowforge run --name NAME:N ...` in its own session, its output
// going through pipes to a `flowforge log-writer` that keeps the instance's log files.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeSystem
import Foundation

/// A started instance: its reaper (the pid `flowforge run` had) and its log writer, each pinned by a pidfd.
struct LaunchedInstance {
    let name: String
    /// The digest of the definition it was started with (`InstanceLauncher.definition`).
    let definition: String
    let reaper: SpawnedProcess
    let logWriter: SpawnedProcess
}

/// Starts instances of a config file's programs exactly as `flowforge run` would be started by hand.
struct InstanceLauncher {
    let config: FleetConfig
    /// The state directory, absolute; handed to every instance.
    let state: String
    /// Where the log writers report their own trouble: stderr (attached `up`) or nowhere (detached).
    let diagnostics: Int32

    /// The `flowforge run` arguments of `program`'s instance `instance`.
    func runArguments(_ program: Program, instance: Int) -> [String] {
        var args = ["run", "--config", config.path, "--program", program.name, "--name", "\(program.name):\(instance)",
                    "--cwd", program.directory(base: config.directory)]
        if let user = program.user { args += ["--user", user] }
        if let group = program.group { args += ["--group", group] }
        return args + ["--"] + program.command
    }

    /// A digest of everything an instance of `program` is started with: its command, directory, user, group
    /// and environment, and every setting its `flowforge run` resolves from the file (the file's own sections
    /// included). Two equal digests start the same thing; `update` restarts an instance whose digest changed.
    func definition(_ program: Program) -> String {
        var text = "command=\(program.command.joined(separator: "\u{0}"))\ncwd=\(program.directory(base: config.directory))\n"
        text += "user=\(program.user ?? "")\ngroup=\(program.group ?? "")\n"
        for (key, value) in program.environment.sorted(by: { $0.key < $1.key }) { text += "environment.\(key)=\(value)\n" }
        if let settings = try? SettingsResolver.resolve(configPath: config.path, given: [], program: program.name) {
            for (key, value) in settings.values.sorted(by: { $0.key < $1.key }) { text += "\(key)=\(value)\n" }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a, 64 bits: a change detector, not a security boundary
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }

    /// Checks `program` the way its `flowforge run` will check itself (settings, users, the command on PATH
    /// from its directory), in this process, before anything starts.
    ///
    /// - Throws: `ValidationError` naming the program.
    func validate(_ program: Program) throws {
        let savedPath = ProcessEnvironment.value("PATH")
        if let path = program.environment["PATH"] { ProcessEnvironment.set("PATH", to: path) }
        defer { if program.environment["PATH"] != nil, let savedPath { ProcessEnvironment.set("PATH", to: savedPath) } }
        do {
            _ = try RunCommand.parse(Array(runArguments(program, instance: 1).dropFirst()))
        } catch {
            throw ValidationError("programs.\(program.name): \(RunCommand.message(for: error))")
        }
    }

    /// Starts the instance: pipes, the log writer, then `flowforge run` in a new session with no parent-death
    /// signal, so it outlives this process (`up` returns) and belongs to no terminal.
    ///
    /// - Throws: when a pipe or a process cannot be created. A log writer whose run could not start sees EOF
    ///   once our write ends close, and exits by itself.
    func launch(_ program: Program, instance: Int) throws -> LaunchedInstance {
        let name = "\(program.name):\(instance)"
        let settings = try SettingsResolver.resolve(configPath: config.path, given: [], program: program.name)
        let flowforge = ProcessEnvironment.executableDirectory() + "/flowforge"
        let null = try FileIO.open("/dev/null", .readWrite)
        defer { FileIO.close(null) }
        let out = try FileIO.pipe()
        let err = try FileIO.pipe()
        var writer = SpawnSpec(path: flowforge, arguments: ["flowforge", "log-writer", "--directory", state + "/logs", "--name", name,
                                                        "--rotate-bytes", "\(max(4096, Int(settings.number(.logRotateMB) * 1_048_576)))",
                                                        "--keep", "\(settings.integer(.logKeepRotated))"],
                               environment: ProcessEnvironment.current(), fdMap: [out.read, null, diagnostics >= 0 ? diagnostics : null, err.read])
        writer.parentDeathSignal = nil
        let logWriter: SpawnedProcess
        do { logWriter = try Spawn.child(writer) } catch {
            for fd in [out.read, out.write, err.read, err.write] { FileIO.close(fd) }
            throw error
        }
        FileIO.close(out.read)
        FileIO.close(err.read)
        var environment = ProcessEnvironment.current().filter { !$0.hasPrefix("FLOWFORGE_STATE_DIR=") }
        environment.append("FLOWFORGE_STATE_DIR=\(state)")
        for (key, value) in program.environment.sorted(by: { $0.key < $1.key }) {
            environment.removeAll { $0.hasPrefix(key + "=") }
            environment.append("\(key)=\(value)")
        }
        var run = SpawnSpec(path: flowforge, arguments: ["flowforge"] + runArguments(program, instance: instance),
                            environment: environment, fdMap: [null, out.write, err.write])
        run.parentDeathSignal = nil
        defer {
            FileIO.close(out.write)
            FileIO.close(err.write)
        }
        return LaunchedInstance(name: name, definition: definition(program), reaper: try Spawn.child(run), logWriter: logWriter)
    }
}

extension RunCommand {
    /// The text of an error `parse` threw (a `ValidationError`'s message, or the parser's own wording).
    static func message(for error: any Error) -> String {
        if let v = error as? ValidationError { return v.message }
        return fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
}
