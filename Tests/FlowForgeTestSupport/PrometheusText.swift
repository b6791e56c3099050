// FlowForge — test support: the Prometheus text format, read back from /metrics.
// SPDX-License-Identifier: Apache-2.0

/// A Prometheus text exposition (version 0.0.4), parsed into samples and `# TYPE` lines.
public struct PrometheusText: Sendable {
    public struct Sample: Sendable, CustomStringConvertible {
        public let name: String
        public let labels: [String: String]
        public let value: Double
        public var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
    }

    public var samples: [Sample] = []
    public var types: [String: String] = [:]
    public var malformed: [String] = []

    public init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) } else { malformed.append(String(line)) }
            } else if !line.hasPrefix("#") {
                if let sample = PrometheusText.sample(line) { samples.append(sample) } else { malformed.append(String(line)) }
            }
        }
    }

    public static func sample(_ line: Substring) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        guard series.hasSuffix("}") else { return nil }
        var labels: [String: String] = [:]
        var rest = series[series.index(after: brace)..<series.index(before: series.endIndex)]
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)...].hasPrefix("\"") else { return nil }
            let key = String(rest[..<eq])
            var i = rest.index(eq, offsetBy: 2)
            var text = ""
            while i < rest.endIndex, rest[i] != "\"" {
                if rest[i] == "\\" { i = rest.index(after: i) }
                if i < rest.endIndex {
                    text.append(rest[i])
                    i = rest.index(after: i)
                }
            }
            guard i < rest.endIndex else { return nil }
            labels[key] = text
            rest = rest[rest.index(after: i)...]
            if rest.hasPrefix(",") { rest = rest.dropFirst() }
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }

    /// The first sample of `name` whose labels include `labels`.
    public func first(_ name: String, _ labels: [String: String] = [:]) -> Sample? {
        samples.first { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
    }

    /// Family names: each sample's name, and each `# TYPE` line's.
    public var families: Set<String> { Set(samples.map(\.name)).union(types.keys) }
}
