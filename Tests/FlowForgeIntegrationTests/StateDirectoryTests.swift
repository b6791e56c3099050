// FlowForge — the state directory as hostile ground: someone else's, writable by others, or planted with
// symlinks, FlowForge keeps nothing there and writes through nothing.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import FlowForgeSystem
import Testing

@Suite("State directory", .serialized)
struct StateDirectoryTests {
    let dir = NSTemporaryDirectory() + "ff-statedir-\(UUID().uuidString.prefix(8))"

    init() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    private func flowforge(_ args: [String], state: String) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["FLOWFORGE_STATE_DIR"] = state
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// Writable by others (mode 0777, or 0770): `run` keeps no spool there (the worker still runs), the
    /// dashboard refuses to start.
    @Test(.timeLimit(.minutes(1)), arguments: [0o777, 0o770] as [mode_t])
    func writableByOthersIsRefused(mode: mode_t) throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/state"
        #expect(mkdir(state, 0o700) == 0 && chmod(state, mode) == 0)
        let run = try flowforge(["run", "--", "true"], state: state)
        #expect(run.status == 0)
        #expect(run.stderr.contains("writable by others") && run.stderr.contains("keeps no spool"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/runs"), "nothing was created inside")
        let dash = try flowforge(["dashboard", "--listen", "127.0.0.1:1"], state: state) // refused before it binds
        #expect(dash.status != 0 && dash.stderr.contains("writable by others"), "\(dash.stderr)")
    }

    /// Owned by another user (root only: chown needs it): refused the same way.
    @Test(.timeLimit(.minutes(1)), .enabled(if: isRoot))
    func someoneElsesDirectoryIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/state"
        #expect(mkdir(state, 0o700) == 0 && chown(state, 65534, 65534) == 0)
        let run = try flowforge(["run", "--", "true"], state: state)
        #expect(run.status == 0)
        #expect(run.stderr.contains("belongs to uid 65534"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/runs"))
    }

    /// A symlink as the state directory, or as `runs/`, is not followed.
    @Test(.timeLimit(.minutes(1)))
    func symlinkedDirectoryIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let elsewhere = dir + "/elsewhere"
        #expect(mkdir(elsewhere, 0o700) == 0)
        #expect(symlink(elsewhere, dir + "/state") == 0)
        let run = try flowforge(["run", "--", "true"], state: dir + "/state")
        #expect(run.stderr.contains("not a directory"), "\(run.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: elsewhere))?.isEmpty == true)
        // runs/ planted as a symlink inside an otherwise good directory.
        let state2 = dir + "/state2"
        #expect(mkdir(state2, 0o700) == 0 && symlink(elsewhere, state2 + "/runs") == 0)
        let run2 = try flowforge(["run", "--", "true"], state: state2)
        #expect(run2.stderr.contains("not a directory"), "\(run2.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: elsewhere))?.isEmpty == true)
    }

    /// A planted symlink (or any existing file) at a spool's path is never written through: the file is
    /// created fresh, O_EXCL | O_NOFOLLOW, relative to the directory.
    @Test func plantedSymlinkAtTheSpoolPathIsNotFollowed() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/victim"
        #expect(FileManager.default.createFile(atPath: target, contents: Data("precious\n".utf8)))
        #expect(symlink(target, dir + "/r1.jsonl") == 0)
        #expect(throws: SystemError.self) { try StateDirectory.createPrivateFile(in: dir, name: "r1.jsonl") }
        #expect(FileManager.default.createFile(atPath: dir + "/r2.jsonl", contents: nil))
        #expect(throws: SystemError.self) { try StateDirectory.createPrivateFile(in: dir, name: "r2.jsonl") }
        #expect(throws: SystemError.self) { try StateDirectory.createPrivateFile(in: dir, name: "../escape") }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
        let fd = try StateDirectory.createPrivateFile(in: dir, name: "r3.jsonl")
        defer { close(fd) }
        var st = stat()
        #expect(fstat(fd, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    /// Run ids carry 32 random bits: the next run's spool and socket paths cannot be predicted.
    @Test(.timeLimit(.minutes(1)))
    func runIDsAreUnguessable() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/state"
        for _ in 0..<2 { #expect(try flowforge(["run", "--", "true"], state: state).status == 0) }
        let spools = try FileManager.default.contentsOfDirectory(atPath: state + "/runs").filter { $0.hasSuffix(".jsonl") }
        #expect(spools.count == 2)
        for name in spools {
            // The spool is the run's record, not only a name: the reaper inherited the descriptor.
            #expect((try? String(contentsOfFile: state + "/runs/" + name, encoding: .utf8))?.contains("\"worker.exited\"") == true, "\(name) is empty")
            #expect(name.range(of: #"^r\d{8}T\d{6}-\d+-[0-9a-f]{8}\.jsonl$"#, options: .regularExpression) != nil, "\(name)")
        }
    }

    /// The systemd layout: the state directory belongs to the dashboard's own user, a root `flowforge run`
    /// declares it (`FLOWFORGE_STATE_OWNER`) and hands that user the spool and control socket it creates,
    /// and the dashboard, running as that user, ingests the run and reaches it while it is live.
    @Test(.timeLimit(.minutes(1)), .enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func rootRunHandsItsStateToTheDeclaredOwner() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/state"
        #expect(mkdir(state, 0o700) == 0 && chown(state, 65534, 65534) == 0 && chmod(dir, 0o755) == 0)
        let ff = try Supervised(["--", "sh", "-c", "echo ready; exec sleep 30"],
                                env: ["FLOWFORGE_STATE_DIR": state, "FLOWFORGE_STATE_OWNER": "nobody"])
        defer { ff.signal(SIGKILL) }
        #expect(eventually { ff.stdout.contains("ready") }, "\(ff.stderr)")
        let runs = state + "/runs"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        let spool = try #require(names.first { $0.hasSuffix(".jsonl") }, "\(names) \(ff.stderr)")
        #expect(eventually { ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).contains { $0.hasSuffix(".sock") } })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [] {
            var st = stat()
            #expect(lstat(runs + "/" + name, &st) == 0 && st.st_uid == 65534 && st.st_mode & 0o077 == 0, "\(name): uid \(st.st_uid) mode \(String(st.st_mode, radix: 8))")
        }
        // The dashboard as that user: it reads the root run's spool and reaches its control socket.
        let port = try LoopbackHTTP.freePort()
        let dash = Process()
        dash.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        dash.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binDir + "/flowforge", "dashboard", "--listen", "127.0.0.1:\(port)"]
        var env = ProcessInfo.processInfo.environment
        env["FLOWFORGE_STATE_DIR"] = state
        env["FLOWFORGE_API_KEY"] = nil
        dash.environment = env
        dash.standardOutput = FileHandle.nullDevice
        dash.standardError = FileHandle.nullDevice
        try dash.run()
        defer { dash.terminate(); dash.waitUntilExit() }
        let runID = String(spool.dropLast(6))
        #expect(eventually(timeout: 20) {
            guard let reply = try? LoopbackHTTP.request(port: port, method: "GET", target: "/runs"),
                  let runs = (try? reply.json())?.array else { return false }
            return runs.contains { $0["run_id"] == .string(runID) && $0["live"] == .bool(true) }
        }, "the dashboard (uid 65534) never listed the live root run")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
    }
}
