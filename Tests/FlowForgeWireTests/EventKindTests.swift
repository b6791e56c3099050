// FlowForge — the catalogue of event kinds: one spelling, valid on the wire.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Testing

@Suite struct EventKindTests {
    @Test func everyKindFitsTheWireAndIsUnique() throws {
        #expect(Set(EventKind.allCases.map(\.rawValue)).count == EventKind.allCases.count)
        for kind in EventKind.allCases {
            #expect(kind.rawValue.utf8.count <= 64)
            #expect(kind.rawValue.utf8.allSatisfy { (0x61...0x7A).contains($0) || $0 == 0x2E || $0 == 0x5F }, "\(kind.rawValue)")
            let event = try Event(kind: kind, generation: 1, wallNanos: 0)
            #expect(event.kind == kind.rawValue && event.knownKind == kind)
        }
        #expect(try Event(kind: "something.new", generation: 1, wallNanos: 0).knownKind == nil, "readers cope with kinds they do not know")
    }
}
