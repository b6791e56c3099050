// FlowForge — the fleet: the programs of a config file, the runs alive in the state directory, and what the
// last `flowforge up` was asked to run (`fleet.json`), shared by up, ps, stop, restart and logs.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeStore
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// One live run, as its control socket describes it.
struct LiveRun {
    let socket: String
    let status: [String: Any]

    var runID: String { status["run_id"] as? String ?? "" }
    var name: String { status["name"] as? String ?? "" }
    var workerPID: Int32 { Int32(status["pid"] as? Int ?? 0) }
    var reaperPID: Int32 { Int32(status["reaper_pid"] as? Int ?? 0) }
    var live: Bool { status["live"] as? Bool ?? false }
    var degraded: Bool { status["degraded"] as? Bool ?? false }
    var generation: Int { status["generation"] as? Int ?? 0 }
}

/// A config file's programs, loaded and checked.
struct FleetConfig {
    /// The file, absolute.
    let path: String
    let settings: Settings

    var programs: [Program] { settings.programs }
    /// Relative `cwd`s and the default working directory: the file's own directory, so that `up` means the same
    /// from a shell in any directory and from systemd.
    var directory: String { (path as NSString).deletingLastPathComponent }

    /// Loads `path` (else FLOWFORGE_CONFIG). Errors are `ValidationError`s (exit 64) naming the key and line.
    static func load(_ given: String?) throws -> FleetConfig {
        guard let raw = given ?? ProcessInfo.processInfo.environment["FLOWFORGE_CONFIG"], !raw.isEmpty else {
            throw ValidationError("no config file: give --config FILE (or set FLOWFORGE_CONFIG) with a programs: section (docs/fleet.md)")
        }
        let path = Executable.absolute(raw)
        let settings = try SettingsResolver.resolve(configPath: path, given: [])
        return FleetConfig(path: path, settings: settings)
    }

    /// Every instance name the file defines, in file order.
    var instanceNames: [String] { programs.flatMap(\.instanceNames) }

    /// The instances `selectors` pick (NAME: all of a program's, NAME:N: that one; none: every instance).
    /// Every instance the file defines, in file order.
    var allInstances: [(program: Program, instance: Int)] { programs.flatMap { p in (1...p.instances).map { (program: p, instance: $0) } } }

    func instances(matching selectors: [String]) throws -> [(program: Program, instance: Int)] {
        let all = allInstances
        guard !selectors.isEmpty else { return all }
        var out: [(program: Program, instance: Int)] = []
        for selector in selectors {
            let picked = all.filter { Fleet.matches("\($0.program.name):\($0.instance)", selector) }
            guard !picked.isEmpty else {
                throw ValidationError("\(selector): no such program or instance in \(path) (programs: \(programs.map(\.name).joined(separator: ", ")))")
            }
            for p in picked where !out.contains(where: { $0.program.name == p.program.name && $0.instance == p.instance }) { out.append(p) }
        }
        return out
    }
}

/// What the last `flowforge up` ran: its config file and that file's instances. `ps` lists those instances
/// even when they are stopped, and `restart` starts a stopped one from that file. `definitions` holds, per
/// instance started by up, restart or update, the digest of the definition it was started with
/// (`InstanceLauncher.definition`): how `update` knows which running instances the edited file changed.
struct FleetRecord: Codable {
    var config: String
    var instances: [String]
    var definitions: [String: String]?

    /// The record once `fleet` is applied: its instances; the definitions of `kept` (instance names still
    /// running as before) from `previous`, and those of `started`.
    static func applied(_ fleet: FleetConfig, previous: FleetRecord?, kept: [String], started: [LaunchedInstance]) -> FleetRecord {
        var definitions: [String: String] = [:]
        let names = Set(fleet.instanceNames)
        for name in kept where names.contains(name) { if let d = previous?.definitions?[name] { definitions[name] = d } }
        for instance in started { definitions[instance.name] = instance.definition }
        return FleetRecord(config: fleet.path, instances: fleet.instanceNames, definitions: definitions)
    }

    static func path(state: String) -> String { state + "/fleet.json" }

    static func read(state: String) -> FleetRecord? {
        guard let data = FileManager.default.contents(atPath: path(state: state)) else { return nil }
        return try? JSONDecoder().decode(FleetRecord.self, from: data)
    }

    /// Written to a fresh temporary file (O_EXCL, never through a symlink: the state directory may belong to
    /// the dashboard's user while a root `up` writes here) and renamed, so a reader never sees half of it.
    func write(state: String) {
        guard let data = try? JSONEncoder().encode(self) else { return }
        let target = FleetRecord.path(state: state)
        let temporary = "fleet.json.\(getpid()).new"
        FileIO.unlink(state + "/" + temporary)
        do {
            let fd = try StateDirectory.createPrivateFile(in: state, name: temporary)
            defer { FileIO.close(fd) }
            try FileIO.writeAll(fd, String(decoding: data, as: UTF8.self))
            _ = try sys("rename \(target)") { rename(state + "/" + temporary, target) }
        } catch {
            FileIO.unlink(state + "/" + temporary)
            FileIO.warn("flowforge: warning: cannot write \(target): \(error)")
        }
    }
}

enum Fleet {
    /// The state directory, absolute (children may start elsewhere), created and checked.
    static func stateDirectory() throws -> String {
        do {
            return Executable.absolute(try StateDirectory.ensure(owner: try Accounts.stateOwner()))
        } catch let error as ValidationError { throw error } catch {
            throw ValidationError("state directory: \(error)")
        }
    }

    /// Whether the worker name `name` is picked by `selector`: `all`, the same name, or its program's name.
    static func matches(_ name: String, _ selector: String) -> Bool {
        selector == "all" || name == selector || (!selector.contains(":") && name.hasPrefix(selector + ":"))
    }

    /// Every run answering on its control socket, asked in parallel (each within ControlClient's 300 ms).
    static func liveRuns(state: String) -> [LiveRun] {
        let runs = state + "/runs"
        let sockets = ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).filter { $0.hasSuffix(".sock") }.sorted()
        let replies = UnsafeSendableBox([[String: Any]?](repeating: nil, count: sockets.count))
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: sockets.count) { i in
            let reply = ControlClient.status(runs + "/" + sockets[i])
            lock.lock()
            replies.value[i] = reply
            lock.unlock()
        }
        return zip(sockets, replies.value).compactMap { socket, reply in
            guard let reply, reply["error"] == nil, reply["run_id"] != nil else { return nil }
            return LiveRun(socket: runs + "/" + socket, status: reply)
        }
    }

    /// The instance names to list for the fleet: `config` when given (or FLOWFORGE_CONFIG), else what the last
    /// `up` recorded.
    static func configuredNames(config: String?, state: String) throws -> [String] {
        if config != nil || ProcessInfo.processInfo.environment["FLOWFORGE_CONFIG"] != nil {
            return try FleetConfig.load(config).instanceNames
        }
        return FleetRecord.read(state: state)?.instances ?? []
    }

    /// The config of the fleet: `config` (or FLOWFORGE_CONFIG), else the file the last `up` used.
    static func config(_ config: String?, state: String) throws -> FleetConfig {
        if config != nil || ProcessInfo.processInfo.environment["FLOWFORGE_CONFIG"] != nil { return try FleetConfig.load(config) }
        guard let record = FleetRecord.read(state: state) else {
            throw ValidationError("no fleet here yet: run flowforge up --config FILE first, or give --config FILE")
        }
        return try FleetConfig.load(record.config)
    }
}

/// A mutable value handed to `concurrentPerform`'s iterations, which write disjoint elements under a lock.
final class UnsafeSendableBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
