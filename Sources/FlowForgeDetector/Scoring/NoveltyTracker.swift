// FlowForge — tells a line that says something new from one that repeats what was said before.
// SPDX-License-Identifier: Apache-2.0

/// Gives each output record an *identity*: its template plus every value that carries meaning, and says
/// whether that identity is new in this worker generation.
///
/// Left out of the identity, because a stuck loop changes them on every iteration just as real work does:
/// - volatile values (`LineValue.isVolatile`): timestamps, durations, and values of keys that name a time,
///   a latency, a request/trace/call id or an iteration counter;
/// - *counters*: a numeric slot of a template whose integer values have only gone up, nearly always by the
///   same step (`step 315`, `attempt 1234`, `total=141`, `uptime 5`, `10`, `15`; one odd step in eight is
///   allowed: lines the detector did not see leave gaps). A value that goes down or repeats (a retry counter
///   that starts over, numbers from several processes interleaved, a random value) or steps that keep
///   changing (session ids, pids) make the slot meaningful for the rest of the generation.
///
/// Everything else counts: new job ids, block ids, URLs, paths, ports, measurements (`loss=0.4312`) make a
/// line new; the same tool, path and error do not. The history of identities is bounded (two generations
/// of 8,192 each, so an old identity is forgotten only after 8,192 newer distinct ones); templates are
/// tracked up to 2,048 at a time.
public struct NoveltyTracker: Sendable {
    struct Slot: Sendable {
        var last: Double?
        var step: Double?
        var increasing = true
        var irregular = 0
        var observations = 0
    }

    private var templates: [String: [Slot]] = [:]
    private var recent: Set<Int> = []
    private var older: Set<Int> = []
    static let historyHalf = 8192
    static let maxTemplates = 2048

    public init() {}

    /// The identity of `line` (a hash, stable within this process) and whether it is new.
    public mutating func observe(_ line: NormalizedLine) -> (identity: Int, novel: Bool) {
        if templates.count >= Self.maxTemplates && templates[line.shape] == nil { templates = [:] }
        var hasher = Hasher()
        hasher.combine(line.shape)
        // Mutated in place: a copy of the slots per record would cost an allocation each time.
        Self.update(&templates[line.shape, default: []], with: line.values, into: &hasher)
        let identity = hasher.finalize()
        guard recent.insert(identity).inserted else { return (identity, false) }
        let novel = !older.contains(identity)
        if recent.count >= Self.historyHalf {
            older = recent
            recent = []
        }
        return (identity, novel)
    }

    /// Advances the slots of one template with a record's values and hashes the values that count.
    private static func update(_ slots: inout [Slot], with values: [LineValue], into hasher: inout Hasher) {
        if slots.count < values.count { slots += Array(repeating: Slot(), count: values.count - slots.count) }
        for (index, value) in values.enumerated() {
            if value.isVolatile { continue }
            let number = value.kind == .number ? integer(value.text) : nil
            if let number {
                if let last = slots[index].last {
                    let step = number - last
                    if step <= 0 {
                        slots[index].increasing = false
                    } else if let established = slots[index].step {
                        // One odd step in eight is a gap (lines the detector did not see: a burst beyond the
                        // analysis budget, a sampled recording), not an id.
                        if step != established { slots[index].irregular += 1 }
                        if slots[index].irregular * 8 > slots[index].observations + 1 { slots[index].increasing = false }
                    } else {
                        slots[index].step = step
                    }
                }
                slots[index].last = number
            } else {
                slots[index].increasing = false
            }
            slots[index].observations += 1
            // A slot that has only ever gone up by one fixed step is a counter: its value says nothing.
            if slots[index].increasing && slots[index].observations >= 2 { continue }
            hasher.combine(index)
            hasher.combine(value.text)
        }
    }

    /// Forgets everything (a new worker generation).
    public mutating func reset() {
        templates = [:]
        recent = []
        older = []
    }

    /// The value of a plain integer token (`1340`, not `3.14` or `1.2.3`), or nil.
    static func integer(_ text: String) -> Double? {
        guard !text.isEmpty, text.utf8.count <= 15, text.utf8.allSatisfy(ShapePatterns.isDigit) else { return nil }
        return Double(text)
    }
}
