// FlowForge — the dashboard's SQLite store (GRDB, WAL): runs, events and incidents, ingested from run spools.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import FlowForgeSystem
import FlowForgeWire
import Foundation
import GRDB
import Synchronization

/// The store of every run in the state directory.
///
/// Runs never write here: each run appends to its own spool (`runs/<run_id>.jsonl`, written by the reaper,
/// which outlives any agent). The dashboard ingests spools: new complete lines are inserted with
/// `INSERT OR IGNORE` on `(run_id, seq)` and the spool offset moves in the same transaction, so a writer
/// killed at any point resumes where it left off and every event ends up stored exactly once.
public final class Store: Sendable {
    public let path: String
    let db: DatabasePool

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        db = try DatabasePool(path: path, configuration: config) // WAL
        try Store.migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE runs (run_id TEXT PRIMARY KEY, spool TEXT NOT NULL, first_ts TEXT, last_ts TEXT, worker TEXT);
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL,
                    wall_nanos INTEGER NOT NULL, generation INTEGER NOT NULL, kind TEXT NOT NULL, incident_id TEXT,
                    fields TEXT NOT NULL, UNIQUE (run_id, seq));
                CREATE INDEX events_incident ON events (incident_id) WHERE incident_id IS NOT NULL;
                CREATE INDEX events_samples ON events (run_id, generation, kind, wall_nanos);
                CREATE TABLE incidents (
                    id TEXT PRIMARY KEY, run_id TEXT NOT NULL, worker TEXT NOT NULL, start TEXT NOT NULL,
                    start_nanos INTEGER NOT NULL, "end" TEXT NOT NULL, action TEXT NOT NULL, rollout_mode TEXT NOT NULL,
                    operator INTEGER NOT NULL, peak_cpu REAL, peak_confidence REAL, min_entropy REAL, reason TEXT NOT NULL);
                CREATE INDEX incidents_start ON incidents (start_nanos);
                CREATE TABLE spool_offsets (path TEXT PRIMARY KEY, offset INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v2") { db in
            // last_seq: the newest event folded into an incident's summary, so ingestion updates it with the new
            // events only. (incident_id, seq) serves the drilldown's pages and the first/last event of an incident.
            try db.execute(sql: """
                ALTER TABLE incidents ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
                DROP INDEX events_incident;
                CREATE INDEX events_incident ON events (incident_id, seq) WHERE incident_id IS NOT NULL;
                """)
        }
        m.registerMigration("v3") { db in
            // Worker names (`--name`) and the command as given: per run, per event (a spool line carries it)
            // and per incident. Runs recorded before have none ("").
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN name TEXT NOT NULL DEFAULT '';
                ALTER TABLE runs ADD COLUMN command TEXT NOT NULL DEFAULT '';
                ALTER TABLE events ADD COLUMN name TEXT NOT NULL DEFAULT '';
                ALTER TABLE incidents ADD COLUMN name TEXT NOT NULL DEFAULT '';
                CREATE INDEX runs_name ON runs (name, last_ts);
                """)
        }
        m.registerMigration("v4") { db in
            // The generation an incident acted on and how it ended for the run (restarted, crash-loop stopped).
            try db.execute(sql: """
                ALTER TABLE incidents ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE incidents ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
                """)
        }
        return m
    }

    /// Events read back from the store to summarise incidents during ingestion (a test checks that this grows
    /// with the events ingested, not with their square).
    public var incidentEventsRead: Int { eventsRead.withLock { $0 } }
    let eventsRead = Mutex(0)
    /// Each run's newest `sample` event (its fields), kept as ingestion stores them: `/metrics` asks for 50
    /// live runs' samples per request, which took 50 read transactions (most of its time).
    let samples = Mutex<[String: (seq: UInt64, fields: [String: String])]>([:])
    let changes = Atomic<UInt64>(0)

    /// Counts ingestion passes that stored something: a view built from the store stays valid while it holds.
    public var changeCount: UInt64 { changes.load(ordering: .acquiring) }

    // MARK: ingestion

    /// Ingests what every spool under `runsDirectory` gained since last time, calling `inserted` for each
    /// event stored for the first time and `skipped` with a spool's path and the number of its lines that
    /// were not events (see `ingest(spool:)`). Returns how many events were stored.
    @discardableResult
    public func ingest(runsDirectory: String, inserted: (TimelineEvent) -> Void = { _ in },
                       skipped: (String, Int) -> Void = { _, _ in }) throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
        var count = 0
        // A run's segments in order (`<run>.jsonl`, `<run>.2.jsonl`, ...): incident summaries fold events forward.
        let spools = names.compactMap { name in StateDirectory.spoolSegment(ofName: name).map { (name, $0.runID, $0.segment) } }
            .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
        for (name, _, _) in spools {
            count += try ingest(spool: runsDirectory + "/" + name, inserted: inserted, skipped: skipped)
        }
        return count
    }

    /// Bytes of a spool read and committed at a time: memory stays bounded whatever the spool's size, and a
    /// large backlog shows up on the timeline chunk by chunk.
    static let ingestChunk = 1 << 20

    /// Ingests one spool from its stored offset to its last complete line, one chunk (one transaction) at a
    /// time, calling `inserted` for each event stored for the first time. Returns how many were. A spool is
    /// untrusted input: a line that is not an event (not JSON, no kind or time, a generation or sequence
    /// number out of range, longer than a chunk) is skipped, never fatal, and `skipped` hears how many.
    @discardableResult
    public func ingest(spool: String, inserted: (TimelineEvent) -> Void = { _ in },
                       skipped: (String, Int) -> Void = { _, _ in }) throws -> Int {
        var offset = try db.read { db in try Int.fetchOne(db, sql: "SELECT offset FROM spool_offsets WHERE path = ?", arguments: [spool]) } ?? 0
        guard let handle = FileHandle(forReadingAtPath: spool) else { return 0 }
        defer { try? handle.close() }
        var count = 0
        while true {
            try handle.seek(toOffset: UInt64(offset))
            guard let data = try handle.read(upToCount: Store.ingestChunk), !data.isEmpty else { break }
            let complete: Data
            if let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) {
                complete = data[data.startIndex...lastNewline]
            } else if data.count == Store.ingestChunk {
                // One line longer than a chunk is no event FlowForge writes: skip it whole, to its newline.
                offset += data.count
                try db.write { db in try Store.saveOffset(db, spool: spool, offset: offset) }
                skipped(spool, 1)
                continue
            } else {
                break // a line still being written
            }
            let lines = complete.split(separator: UInt8(ascii: "\n"))
            let events = lines.compactMap { TimelineEvent(jsonLine: Substring(String(decoding: $0, as: UTF8.self))) }
            if events.count < lines.count { skipped(spool, lines.count - events.count) }
            offset += complete.count
            var new: [TimelineEvent] = []
            try db.write { db in
                var touched: [String: [TimelineEvent]] = [:]
                for e in events {
                    let fields = String(decoding: (try? JSONSerialization.data(withJSONObject: e.fields, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO events (run_id, seq, ts, wall_nanos, generation, kind, incident_id, fields, name)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [e.runID, Int64(e.seq), e.ts, e.wallNanos, Int64(e.generation), e.kind, e.incidentID, fields, e.name])
                    if db.changesCount > 0 {
                        new.append(e)
                        if let id = e.incidentID { touched[id, default: []].append(e) }
                    }
                    try db.execute(sql: """
                        INSERT INTO runs (run_id, spool, first_ts, last_ts, worker, name, command) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(run_id) DO UPDATE SET last_ts = excluded.last_ts, worker = COALESCE(excluded.worker, runs.worker),
                            name = CASE WHEN excluded.name != '' THEN excluded.name ELSE runs.name END,
                            command = CASE WHEN excluded.command != '' THEN excluded.command ELSE runs.command END
                        """, arguments: [e.runID, spool, e.ts, e.ts, e.fields["worker"], e.name,
                                         e.kind == EventKind.runStarted.rawValue ? e.fields["argv"] ?? "" : ""])
                }
                for (id, new) in touched { try refreshIncident(db, id: id, new: new) }
                try Store.saveOffset(db, spool: spool, offset: offset)
            }
            for e in new { inserted(e) }
            if !new.isEmpty {
                samples.withLock { latest in
                    for e in new where e.kind == EventKind.sample.rawValue && e.seq > latest[e.runID]?.seq ?? 0 {
                        latest[e.runID] = (e.seq, e.fields)
                    }
                }
                changes.add(1, ordering: .releasing)
            }
            count += new.count
            if data.count < Store.ingestChunk { break }
        }
        return count
    }

    static func saveOffset(_ db: Database, spool: String, offset: Int) throws {
        try db.execute(sql: "INSERT INTO spool_offsets (path, offset) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET offset = excluded.offset",
                       arguments: [spool, offset])
    }

    /// Folds an incident's newly stored events into its stored summary: O(new events), whatever the incident's
    /// length. (It used to re-read and re-summarise every event of the incident at each chunk, which made
    /// ingesting a long incident quadratic.) Events older than the summary's newest (a spool is append-only, so
    /// only a hand-edited one has them) fall back to summarising the whole incident again.
    func refreshIncident(_ db: Database, id: String, new: [TimelineEvent]) throws {
        let row = try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id])
        var summary: IncidentSummary
        var lastSeq: Int64 = row?["last_seq"] ?? 0
        let sorted = new.sorted { $0.seq < $1.seq }
        if let row, let first = sorted.first, Int64(clamping: first.seq) > lastSeq {
            summary = Store.summary(row)
            for e in sorted { summary.absorb(e) }
        } else if row == nil, let first = sorted.first {
            // A new incident: every event it has is in this chunk.
            summary = IncidentSummary(first: first, id: id)
            for e in sorted { summary.absorb(e) }
        } else {
            let events = try Store.events(db, sql: "SELECT * FROM events WHERE incident_id = ? ORDER BY seq", [id])
            eventsRead.withLock { $0 += events.count }
            guard let first = events.first else { return }
            summary = IncidentSummary(first: first, id: id)
            for e in events { summary.absorb(e) }
        }
        lastSeq = max(lastSeq, Int64(clamping: sorted.last?.seq ?? 0))
        let s = summary
        try db.execute(sql: """
            INSERT OR REPLACE INTO incidents (id, run_id, worker, start, start_nanos, "end", action, rollout_mode, operator,
                                              peak_cpu, peak_confidence, min_entropy, reason, last_seq, name, generation, outcome)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [s.id, s.runID, s.worker, s.start, s.startNanos, s.end, s.action, s.rolloutMode, s.operator_,
                             s.peakCPU, s.peakConfidence, s.minEntropy, s.reason, lastSeq, s.name, Int64(s.generation), s.outcome])
    }

    static func summary(_ r: Row) -> IncidentSummary {
        var s = IncidentSummary(id: r["id"], runID: r["run_id"], worker: r["worker"], start: r["start"], end: r["end"],
                                startNanos: r["start_nanos"], action: r["action"], rolloutMode: r["rollout_mode"],
                                operator_: r["operator"], peakCPU: r["peak_cpu"], peakConfidence: r["peak_confidence"],
                                minEntropy: r["min_entropy"], reason: r["reason"])
        s.name = r["name"]
        s.generation = UInt32(clamping: r["generation"] as Int64)
        s.outcome = r["outcome"]
        return s
    }

    // MARK: reading

    public func incidents(limit: Int, before: Int64?) throws -> [IncidentSummary] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM incidents WHERE start_nanos < ? ORDER BY start_nanos DESC LIMIT ?
                """, arguments: [before ?? Int64.max, limit])
            return rows.map(Store.summary)
        }
    }

    /// The drilldown chain, as `Timeline.chain` defines it, straight from the indexes.
    public func chain(incident: String) throws -> [TimelineEvent]? {
        try db.read { db in
            let own = try Store.events(db, sql: "SELECT * FROM events WHERE incident_id = ? ORDER BY seq", [incident])
            guard let first = own.first, let last = own.last else { return nil }
            let samples = try Store.events(db, sql: """
                SELECT * FROM events WHERE run_id = ? AND generation = ? AND kind = 'sample' AND wall_nanos BETWEEN ? AND ?
                """, [first.runID, Int64(first.generation), Timeline.windowStart(first.wallNanos), last.wallNanos])
            return (own + samples).sorted { $0.seq < $1.seq }
        }
    }

    /// One page of the drilldown chain: its events with `seq > after`, at most `limit`, and whether more follow.
    public func chain(incident: String, after: UInt64, limit: Int) throws -> (events: [TimelineEvent], more: Bool)? {
        try db.read { db in
            let ownSQL = "SELECT * FROM events WHERE incident_id = ? ORDER BY seq"
            guard let first = try Store.events(db, sql: ownSQL + " LIMIT 1", [incident]).first,
                  let last = try Store.events(db, sql: ownSQL + " DESC LIMIT 1", [incident]).first else { return nil }
            let from = Int64(clamping: after), n = limit + 1
            let own = try Store.events(db, sql: "SELECT * FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                                       [incident, from, n])
            let samples = try Store.events(db, sql: """
                SELECT * FROM events WHERE run_id = ? AND generation = ? AND kind = 'sample' AND wall_nanos BETWEEN ? AND ?
                AND seq > ? ORDER BY seq LIMIT ?
                """, [first.runID, Int64(first.generation), Timeline.windowStart(first.wallNanos), last.wallNanos, from, n])
            let merged = (own + samples).sorted { $0.seq < $1.seq }
            return (Array(merged.prefix(limit)), merged.count > limit)
        }
    }

    /// A run as the store knows it.
    public struct StoredRun: Sendable, Equatable {
        public var runID: String
        public var name: String
        public var command: String
        public var worker: String?
        public var firstTS: String?
        public var lastTS: String?
    }

    /// The newest runs (live and finished), newest first.
    public func runs(limit: Int = 200) throws -> [StoredRun] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT run_id, name, command, worker, first_ts, last_ts FROM runs ORDER BY last_ts DESC LIMIT ?",
                             arguments: [limit]).map {
                StoredRun(runID: $0["run_id"], name: $0["name"], command: $0["command"], worker: $0["worker"],
                          firstTS: $0["first_ts"], lastTS: $0["last_ts"])
            }
        }
    }

    /// The newest sample of a run, for its live gauges.
    public func latestSample(run: String) throws -> [String: String]? {
        if let kept = samples.withLock({ $0[run] }) { return kept.fields }
        let stored = try db.read { db in
            try Store.events(db, sql: "SELECT * FROM events WHERE run_id = ? AND kind = 'sample' ORDER BY seq DESC LIMIT 1", [run]).first
        }
        if let stored {
            samples.withLock { latest in
                if stored.seq > latest[run]?.seq ?? 0 { latest[run] = (stored.seq, stored.fields) }
            }
        }
        return stored?.fields
    }

    public func eventCount() throws -> Int { try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") ?? 0 } }

    /// Deletes events and incidents older than `days`, and the spools of runs that ended before then.
    public func applyRetention(days: Double, runsDirectory: String) throws {
        let cutoff = Int64((Date().timeIntervalSince1970 - days * 86_400) * 1e9)
        try db.write { db in
            try db.execute(sql: "DELETE FROM events WHERE wall_nanos < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM incidents WHERE start_nanos < ?", arguments: [cutoff])
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? [] where name.hasSuffix(".jsonl") {
            let path = runsDirectory + "/" + name
            guard let runID = StateDirectory.spoolSegment(ofName: name)?.runID else { continue }
            let socket = runsDirectory + "/" + runID + ".sock" // a live run's segments all stay
            guard !FileManager.default.fileExists(atPath: socket),
                  let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  modified.timeIntervalSince1970 * 1e9 < Double(cutoff) else { continue }
            try? FileManager.default.removeItem(atPath: path)
            try db.write { try $0.execute(sql: "DELETE FROM spool_offsets WHERE path = ?", arguments: [path]) }
        }
    }

    static func events(_ db: Database, sql: String, _ arguments: StatementArguments) throws -> [TimelineEvent] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
            let fieldsText: String = r["fields"]
            let fields = (try? JSONSerialization.jsonObject(with: Data(fieldsText.utf8))) as? [String: String] ?? [:]
            return TimelineEvent(runID: r["run_id"], name: r["name"], seq: UInt64(clamping: r["seq"] as Int64), ts: r["ts"], wallNanos: r["wall_nanos"],
                                 generation: UInt32(clamping: r["generation"] as Int64), kind: r["kind"], incidentID: r["incident_id"], fields: fields)
        }
    }
}
