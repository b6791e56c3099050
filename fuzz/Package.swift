// swift-tools-version: 6.0
//
// FlowForge's coverage-guided fuzz targets (libFuzzer). Build and run them with scripts/fuzz.sh; fuzz/README.md
// says why this is a package of its own and why the modules under test are symlinks into ../Sources.
import PackageDescription

let package = Package(
    name: "FlowForgeFuzz",
    dependencies: [
        // The same requirement as ../Package.swift: the config loader is fuzzed with the Yams FlowForge ships.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // Symlinks to the real modules (../Sources/...), compiled here with the fuzzer's instrumentation.
        .target(name: "FlowForgeWire"),
        .target(name: "FlowForgeConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The spool-line parser and the incident summaries built from it (FlowForgeModel needs only FlowForgeWire).
        .target(name: "FlowForgeModel", dependencies: ["FlowForgeWire"]),
        .target(name: "FuzzSupport"),
        .executableTarget(name: "fuzz-wire", dependencies: ["FlowForgeWire", "FuzzSupport"]),
        .executableTarget(name: "fuzz-spool-line", dependencies: ["FlowForgeModel", "FlowForgeWire", "FuzzSupport"]),
        .executableTarget(name: "fuzz-timestamp", dependencies: ["FlowForgeWire", "FuzzSupport"]),
        .executableTarget(name: "fuzz-config", dependencies: ["FlowForgeConfig", "FuzzSupport"]),
        // Sources/FlowForgeReaper/AgentEventGate.swift (a symlink) compiled into the target: the gate is internal.
        .executableTarget(name: "fuzz-agent-gate", dependencies: ["FlowForgeWire", "FuzzSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
