// FlowForge — the HTTP boundary (issue 10, item 6 and part of 8): Host allowlist, 405 for every other method,
// loopback decided on addresses, the key for reads, drilldown pages, hung control sockets, linear ingestion.
// Real HTTP on loopback against real `flowforge run --listen` and `flowforge dashboard` processes.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAPI
import FlowForgeModel
import FlowForgeStore
import FlowForgeTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("HTTP boundary over real HTTP", .serialized)
struct HTTPBoundaryTests {
    /// DNS rebinding: a page on `attacker.example` that resolves to 127.0.0.1 sends `Host: attacker.example:PORT`.
    /// Before the allowlist every request was served whatever its Host; now only loopback names, the listen host
    /// and `--allowed-host` names are, and the rest get a 421 JSON error (two Host headers: 400).
    @Test(.timeLimit(.minutes(1)))
    func hostHeaderAllowlistRefusesOtherNames() throws {
        let run = try APIRun(options: ["--grace", "1", "--allowed-host", "flowforge.example.org"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let port = run.port
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST", "[::1]:\(port)", "127.0.0.1",
                     "flowforge.example.org", "flowforge.example.org.:443"] {
            let reply = try run.call("GET", "/healthz", headers: [("Host", host)])
            #expect(reply.status == 200, "Host \(host): \(reply.status) \(reply.text)")
        }
        for host in ["attacker.example:\(port)", "127.0.0.1.attacker.example", "localhost.attacker.example:\(port)",
                     "flowforge.example.org.evil", "[::2]:\(port)", "127.0.0.1:notaport", "user@127.0.0.1", ""] {
            for (method, path) in [("GET", "/timeline"), ("GET", "/healthz"), ("POST", "/process/restart"), ("GET", "/nope")] {
                let reply = try run.call(method, path, headers: [("Host", host)] + run.authorized, body: reasonBody("no"))
                #expect(reply.status == 421, "Host '\(host)' \(method) \(path): \(reply.status) \(reply.text)")
                #expect(APIRun.isError(reply), "\(reply.text)")
            }
        }
        let twice = try run.call("GET", "/timeline", headers: [("Host", "127.0.0.1:\(port)"), ("Host", "attacker.example")])
        #expect(twice.status == 400, "\(twice.status) \(twice.text)")
        #expect(try run.timeline().isEmpty, "a refused request must not act")
    }

    /// schemathesis found HEAD, OPTIONS and TRACE on known paths answered with the router's bodiless 404 (the
    /// spec implies 405). Every method but a path's own is now a 405 with Allow.
    @Test(.timeLimit(.minutes(1)))
    func everyOtherMethodOnAKnownPathIs405() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        for (path, allow) in [("/healthz", "GET"), ("/timeline", "GET"), ("/", "GET"), ("/dashboard/index.html", "GET"),
                              ("/process/kill", "POST"), ("/process/restart", "POST")] {
            for method in ["HEAD", "OPTIONS", "TRACE", "PROPFIND"] {
                let reply = try run.call(method, path, headers: run.authorized)
                #expect(reply.status == 405, "\(method) \(path): \(reply.status)")
                #expect(reply.headers["allow"] == allow, "\(method) \(path): \(reply.headers)")
            }
        }
        #expect(run.ff.process.isRunning && run.worker() != nil)
    }

    /// `--listen 127.example.invalid:PORT` passed the old `hasPrefix("127.")` check as loopback. Loopback is now
    /// decided on addresses: the name must resolve, and only to 127.0.0.0/8 or ::1.
    @Test(.timeLimit(.minutes(1)))
    func loopbackIsDecidedOnAddresses() throws {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"] {
            #expect(Loopback.isLoopback(host: host), "\(host)")
        }
        for host in ["127.example.invalid", "127.0.0.1.example.invalid", "0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1"] {
            #expect(!Loopback.isLoopback(host: host), "\(host)")
        }
        let ff = try Supervised(["--listen", "127.example.invalid:8080", "--", "true"])
        #expect(ff.waitForExit(timeout: 20))
        #expect(ff.exitCode == 64, "\(String(describing: ff.exitCode)) \(ff.stderr)")
        #expect(ff.stderr.contains("not a loopback address"), "\(ff.stderr)")
    }

    /// `/timeline` carries the worker's output lines. With `--require-key-for-reads` the reads need the key
    /// (401 without; 503 when none is configured); `/healthz` and the page's static files never do.
    @Test(.timeLimit(.minutes(1)))
    func readsCanRequireTheKey() throws {
        let run = try APIRun(options: ["--grace", "1", "--require-key-for-reads"])
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let key = try #require(run.key)
        for path in ["/timeline", "/runs", "/metrics", "/timeline?incident_id=x"] {
            #expect(try run.request("GET", path).status == 401, "\(path) without the key")
            #expect(try run.request("GET", path, headers: [("Authorization", "Bearer wrong")]).status == 401, "\(path) wrong key")
            let ok = try run.request("GET", path, headers: [("Authorization", "Bearer \(key)")])
            #expect(ok.status == (path.contains("incident_id") ? 404 : 200), "\(path) with the key: \(ok.status)")
        }
        for path in ["/healthz", "/", "/dashboard/dashboard.js"] {
            #expect(try run.request("GET", path).status == 200, "\(path) stays open")
        }
        let keyless = try APIRun(key: nil, options: ["--grace", "1", "--require-key-for-reads"])
        try #require(keyless.waitUntilServing(), "the API never answered: \(keyless.ff.stderr)")
        #expect(try keyless.request("GET", "/timeline").status == 503, "no key: reads fail closed")
        #expect(try keyless.request("GET", "/healthz").status == 200)
        // Without the flag, reads stay open (the default a existing client sees).
        let open = try APIRun()
        try #require(open.waitUntilServing())
        #expect(try open.request("GET", "/timeline").status == 200)
    }

    /// The dashboard takes the same options, and pages a long drilldown from its store: 2 500 events come in
    /// pages of at most 1 000 linked by `Link: <...after=SEQ...>; rel="next"`, together exactly the chain.
    @Test(.timeLimit(.minutes(1)))
    func dashboardPagesDrilldownsAndRequiresTheKeyForReads() throws {
        let dash = try Dashboard(options: ["--require-key-for-reads", "--allowed-host", "ff.example.org"]) { runs in
            var lines: [String] = []
            for seq in 1...2500 {
                let ts = String(format: "2026-12-07T02:%02d:%02d.%06dZ", (seq / 60) % 60, seq % 60, seq)
                let kind = seq % 2 == 0 ? "sample" : "detector.note"
                let incident = kind == "sample" ? "" : #","incident_id":"r1-1""#
                lines.append(#"{"ts":"\#(ts)","run_id":"r1","generation":1,"kind":"\#(kind)","seq":\#(seq)\#(incident),"fields":{"cpu_percent":50}}"#)
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: runs + "/r1.jsonl", atomically: true, encoding: .utf8)
        }
        let auth = [("Authorization", "Bearer \(dash.key)")]
        #expect(eventually(timeout: 15) { (try? dash.get("/timeline", auth))?.text.contains("r1-1") == true }, "never ingested")
        #expect(try dash.get("/timeline").status == 401)
        #expect(try dash.get("/healthz").status == 200)
        #expect(try dash.get("/healthz", [("Host", "ff.example.org:443")]).status == 200)
        #expect(try dash.get("/healthz", [("Host", "evil.example.org")]).status == 421)
        var seqs: [Int] = []
        var target: String? = "/timeline?incident_id=r1-1"
        var pages = 0
        while let t = target, pages < 10 {
            let reply = try dash.get(t, auth)
            #expect(reply.status == 200, "\(t): \(reply.status) \(reply.text.prefix(200))")
            let page = try #require(try reply.json().array)
            #expect(page.count <= 1000)
            seqs += page.compactMap { $0["seq"]?.double.map { Int($0) } }
            target = reply.headers["link"].flatMap { link in
                link.range(of: #"<([^>]*)>; rel="next""#, options: .regularExpression).map { String(link[$0].dropFirst().prefix { $0 != ">" }) }
            }
            pages += 1
        }
        #expect(pages == 3, "\(pages) pages")
        // The chain ends with the incident's last event (2499): the sample after it is not part of it.
        #expect(seqs == Array(1...2499), "the pages together are the chain, once each, in order (\(seqs.count) events, \(seqs.first ?? -1)...\(seqs.last ?? -1))")
        let small = try dash.get("/timeline?incident_id=r1-1&limit=10&after=2489", auth)
        #expect(try small.json().array?.count == 10 && small.headers["link"] == nil, "the last page has no Link")
        #expect(try dash.get("/timeline?incident_id=r1-1&after=-1", auth).status == 400)
        #expect(try dash.get("/timeline?incident_id=nope&after=-1", auth).status == 404, "an unknown id is a 404 first")
    }

    /// The dashboard asks each run's control socket for `/runs` and `/metrics`. A socket whose listener never
    /// accepts (its backlog full, so a blocking connect never returns) hung the dashboard's handler for good, and
    /// one that accepts and never answers cost a second per request. Now the first request pays at most one
    /// short timeout per socket and later ones skip the unresponsive sockets.
    @Test(.timeLimit(.minutes(1)))
    func hungControlSocketsCostOneShortTimeout() throws {
        var listeners: [Int32] = []
        var held: [Int32] = []
        defer { for fd in listeners + held { close(fd) } }
        let dash = try Dashboard(options: []) { runs in
            // Accepts nothing and never will: backlog 0, then filled, so the next connect would block.
            let full = try HungSocket.listen(runs + "/r-full.sock", backlog: 0)
            listeners.append(full)
            for _ in 0..<4 { if let fd = HungSocket.connectNonBlocking(runs + "/r-full.sock") { held.append(fd) } }
            // Accepted by the kernel (queued) but never answered.
            listeners.append(try HungSocket.listen(runs + "/r-silent.sock", backlog: 16))
        }
        let first = Date()
        let runs = try dash.get("/runs")
        let firstCost = Date().timeIntervalSince(first)
        #expect(runs.status == 200, "\(runs.status) \(runs.text)")
        #expect(firstCost < 2, "first /runs took \(firstCost) s")
        for path in ["/runs", "/metrics", "/runs", "/metrics"] {
            let t = Date()
            #expect(try dash.get(path).status == 200)
            #expect(Date().timeIntervalSince(t) < 0.25, "\(path) took \(Date().timeIntervalSince(t)) s: the hung sockets were asked again")
        }
        #expect(try dash.get("/healthz").status == 200)
        #expect(dash.process.isRunning)
    }
}

@Suite struct StoreIngestionCostTests {
    /// Ingesting a long incident was quadratic: every chunk re-read and re-summarised every stored event of each
    /// incident it touched. 4 000 events arriving 20 at a time read back 402 000 events (sum of 20, 40, ...,
    /// 4 000); now the stored summary is updated with the new events only, and nothing is read back. The
    /// summary is still exactly the one built from the whole incident.
    @Test func ingestingALongIncidentIsLinear() throws {
        let dir = NSTemporaryDirectory() + "ff-ingest-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(path: dir + "/flowforge.db")
        let spool = dir + "/runs/r1.jsonl"
        _ = FileManager.default.createFile(atPath: spool, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: spool))
        defer { try? handle.close() }
        var events: [TimelineEvent] = []
        let started = Date()
        for batch in 0..<200 {
            var text = ""
            for i in 0..<20 {
                let seq = batch * 20 + i + 1
                let kind = seq == 1 ? "incident.opened" : (seq == 2 ? "policy.decision" : "detector.note")
                let line = #"{"ts":"2026-12-07T02:19:24.\#(String(format: "%06d", seq))Z","run_id":"r1","generation":1,"kind":"\#(kind)","seq":\#(seq),"incident_id":"r1-1","fields":{"cpu_percent":\#(seq % 97),"reason":"loop","decision":"log","entropy":\#(Double(seq % 13) / 4)}}"#
                text += line + "\n"
                events.append(try #require(TimelineEvent(jsonLine: Substring(line))))
            }
            try handle.write(contentsOf: Data(text.utf8))
            try store.ingest(runsDirectory: dir + "/runs")
        }
        let seconds = Date().timeIntervalSince(started)
        print("ingest: 4000 events of one incident in 200 chunks: \(String(format: "%.2f", seconds)) s, \(store.incidentEventsRead) events read back")
        #expect(store.incidentEventsRead == 0, "events read back to summarise the incident: \(store.incidentEventsRead)")
        let stored = try #require(try store.incidents(limit: 10, before: nil).first)
        let expected = try #require(Timeline.incidents(events).first)
        #expect(stored.end == expected.end && stored.peakCPU == expected.peakCPU && stored.minEntropy == expected.minEntropy
                && stored.action == expected.action && stored.reason == expected.reason && stored.start == expected.start)
    }
}

// MARK: - helpers

/// A `flowforge dashboard` on a fresh state directory with its own key, serving before the test goes on.
final class Dashboard {
    let server: DashboardProcess
    let stateDir: String
    let key = "ffk-\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    var process: Process { server.process }

    /// `prepare` gets the state directory's `runs` folder before the dashboard starts.
    init(options: [String], prepare: (String) throws -> Void = { _ in }) throws {
        stateDir = try makeTemporaryDirectory("ff-dash")
        try FileManager.default.createDirectory(atPath: stateDir + "/runs", withIntermediateDirectories: true)
        chmod(stateDir, 0o700)
        try prepare(stateDir + "/runs")
        server = try DashboardProcess(stateDir: stateDir, options: options, env: ["FLOWFORGE_API_KEY": key])
        guard server.waitUntilServing() else { throw TestFailure("the dashboard never answered on port \(server.port): \(server.log)") }
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    func get(_ target: String, _ headers: [(String, String)] = []) throws -> HTTPReply { try server.get(target, headers) }
}

/// Unix sockets that misbehave on purpose.
enum HungSocket {
    static func address(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        return addr
    }

    /// A listener that never accepts.
    static func listen(_ path: String, backlog: Int32) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, rc == 0, Glibc.listen(fd, backlog) == 0 else { throw TestFailure("listen \(path): errno \(errno)") }
        return fd
    }

    /// A connection that fills the backlog (nil once it is full).
    static func connectNonBlocking(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var addr = address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 { return fd }
        close(fd)
        return nil
    }
}
