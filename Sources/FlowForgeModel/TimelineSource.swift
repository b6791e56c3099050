// FlowForge — what the routes read: one run's in-memory state, or the store of every run.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A source of incidents, drilldown chains and runs for the API.
public protocol TimelineSource: Sendable {
    /// Incident groups, newest first, starting before `before` (Unix ns) when given.
    func incidents(limit: Int, before: Int64?) -> [IncidentSummary]
    /// An incident's chain, or nil when the id is unknown.
    func chain(incident: String) -> [TimelineEvent]?
    /// One page of an incident's chain: the events with `seq > after`, at most `limit`, and whether more
    /// follow; nil when the id is unknown.
    func chain(incident: String, after: UInt64, limit: Int) -> (events: [TimelineEvent], more: Bool)?
    /// Runs as `/runs` lists them.
    func runs() -> [[String: Any]]
    /// `runs()` as the JSON body of `/runs` (a source may keep it between changes: serializing is most of
    /// the request's cost).
    func runsJSON() -> [UInt8]
    /// Whether any run has a live worker (process actions answer 409 otherwise).
    var hasLiveWorker: Bool { get }
    /// The Prometheus text for `/metrics`.
    func metricsText() -> String
}

extension TimelineSource {
    public func runsJSON() -> [UInt8] { Array((try? JSONSerialization.data(withJSONObject: runs())) ?? Data("[]".utf8)) }

    public func chain(incident: String, after: UInt64, limit: Int) -> (events: [TimelineEvent], more: Bool)? {
        guard let all = chain(incident: incident) else { return nil }
        let rest = all.drop { $0.seq <= after }
        return (Array(rest.prefix(limit)), rest.count > limit)
    }
}
