// FlowForge — the dashboard's process actions when a run ends between the status check and the request.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeMetrics
import FlowForgeModel
import FlowForgeStore
import FlowForgeWire
import Foundation
import Glibc
import Testing

/// A real control socket (`runs/<run_id>.sock`) answering `status` as a live run, and closing the connection
/// without an answer on `kill`; with `endsOnKill` it then removes its socket, as a run that tears down does.
final class ScriptedControlSocket: @unchecked Sendable { // fd and thread are set once in init
    let path: String
    let listener: Int32
    private var thread: Thread?

    init(path: String, runID: String, endsOnKill: Bool) throws {
        self.path = path
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.listener = listener
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let thread = Thread {
            while true {
                let conn = accept(listener, nil, nil)
                guard conn >= 0 else { return } // the listener was shut down
                var buffer = [UInt8](repeating: 0, count: 4096)
                var request: [UInt8] = []
                while !request.contains(UInt8(ascii: "\n")) {
                    let n = read(conn, &buffer, buffer.count)
                    guard n > 0 else { break }
                    request += buffer[0..<n]
                }
                if String(decoding: request, as: UTF8.self).contains(#""op":"status""#) {
                    let reply = Array(#"{"run_id":"\#(runID)","live":true,"name":"spin"}"#.utf8) + [UInt8(ascii: "\n")]
                    _ = reply.withUnsafeBytes { write(conn, $0.baseAddress, $0.count) }
                } else if endsOnKill {
                    unlink(path)
                }
                close(conn)
            }
        }
        self.thread = thread
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }
}

@Suite struct ControlSinkTests {
    private func source(_ dir: String) throws -> StoreSource {
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        return StoreSource(store: try Store(path: dir + "/flowforge.db"), runsDirectory: dir + "/runs",
                           metrics: APIMetrics(.dashboard))
    }

    /// schemathesis found it in CI: a second `POST /process/kill` while the first kill's teardown was under
    /// way saw the run live, then the run's socket closed without an answer, and the dashboard said 503. A run
    /// that ended is not an unavailable server: the answer is the one for no live run (409).
    @Test func aRunThatEndsBeforeTheRequestIsNotLive() async throws {
        let dir = NSTemporaryDirectory() + "ff-sink-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sink = ControlSink(source: try source(dir))
        let server = try ScriptedControlSocket(path: dir + "/runs/r1.sock", runID: "r1", endsOnKill: true)
        defer { server.stop() }
        let result = await sink.act(kind: .kill, reason: "test", runID: nil)
        guard case .noLiveRun = result else { Issue.record("kill of a run that ended: \(result)"); return }

        let again = try ScriptedControlSocket(path: dir + "/runs/r2.sock", runID: "r2", endsOnKill: true)
        defer { again.stop() }
        let named = await sink.act(kind: .kill, reason: "test", runID: "r2")
        guard case .unknownRun("r2") = named else { Issue.record("kill of a named run that ended: \(named)"); return }
    }

    /// A run that is still live and closed the connection without an answer is unavailable (503).
    @Test func aLiveRunThatDropsTheRequestIsUnavailable() async throws {
        let dir = NSTemporaryDirectory() + "ff-sink-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sink = ControlSink(source: try source(dir))
        let server = try ScriptedControlSocket(path: dir + "/runs/r1.sock", runID: "r1", endsOnKill: false)
        defer { server.stop() }
        let result = await sink.act(kind: .kill, reason: "test", runID: nil)
        guard case .unavailable = result else { Issue.record("kill dropped by a live run: \(result)"); return }
    }
}

/// What the dashboard keeps between requests: `/runs`'s body and each run's newest sample. Both must follow
/// the store: a kept body is replaced once ingestion stored something, a kept sample by a newer one.
@Suite struct StoreSourceKeptTests {
    private func line(_ run: String, _ seq: Int, _ kind: String, _ fields: String = "{}") -> String {
        #"{"ts":"2026-12-07T14:00:0\#(seq).000000Z","run_id":"\#(run)","name":"w","generation":1,"kind":"\#(kind)","seq":\#(seq),"fields":\#(fields)}"# + "\n"
    }

    @Test func keptBodiesAndSamplesFollowTheStore() throws {
        let dir = NSTemporaryDirectory() + "ff-kept-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = StoreSource(store: try Store(path: dir + "/flowforge.db"), runsDirectory: dir + "/runs", metrics: APIMetrics(.dashboard))
        func runIDs() throws -> Set<String> {
            let runs = try #require(try JSONSerialization.jsonObject(with: Data(source.runsJSON())) as? [[String: Any]])
            return Set(runs.compactMap { $0["run_id"] as? String })
        }
        let r1 = dir + "/runs/r1.jsonl"
        try (line("r1", 1, "run.started") + line("r1", 2, "sample", #"{"cpu_percent":"5"}"#)).write(toFile: r1, atomically: false, encoding: .utf8)
        try source.store.ingest(runsDirectory: dir + "/runs")
        #expect(try runIDs() == ["r1"])
        #expect(source.runsJSON() == source.runsJSON())
        #expect(try source.store.latestSample(run: "r1")?["cpu_percent"] == "5")

        try line("r2", 1, "run.started").write(toFile: dir + "/runs/r2.jsonl", atomically: false, encoding: .utf8)
        let handle = try #require(FileHandle(forWritingAtPath: r1))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line("r1", 3, "sample", #"{"cpu_percent":"97"}"#).utf8))
        try handle.close()
        try source.store.ingest(runsDirectory: dir + "/runs")
        #expect(try runIDs() == ["r1", "r2"], "the kept /runs body outlived a change of the store")
        #expect(try source.store.latestSample(run: "r1")?["cpu_percent"] == "97")

        // A restarted dashboard over the same database: nothing kept yet, the store answers.
        let again = try Store(path: dir + "/flowforge.db")
        #expect(try again.latestSample(run: "r1")?["cpu_percent"] == "97")
        #expect(try again.latestSample(run: "r2") == nil)
    }
}
