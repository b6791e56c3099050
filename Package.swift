// swift-tools-version: 6.0
//
// FlowForge: a hardened process supervisor that stops runaway workers.
// Dependencies point one way: executables -> feature libraries -> FlowForgeModel -> FlowForgeWire, and
// FlowForgeSystem -> CFlowForgeSys. The store and the API share FlowForgeModel and FlowForgeMetrics; neither imports
// the other (scripts/validate.sh).
// The reaper (FlowForgeReaper, flowforge-reaper) links only Wire, System and the C shim: no Foundation.
import PackageDescription

let strictC: [CSetting] = [
    .unsafeFlags(["-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers", "-fstack-protector-strong"]),
    .define("_GNU_SOURCE"),
    .define("_FORTIFY_SOURCE", to: "2"),
]

let package = Package(
    name: "FlowForge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flowforge", targets: ["flowforge"]),
        .executable(name: "flowforge-reaper", targets: ["flowforge-reaper"]),
        .executable(name: "flowforge-detector", targets: ["flowforge-detector"]),
        .executable(name: "flowforge-api", targets: ["flowforge-api"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // The API agent and the dashboard serve a pre-bound socket through NIO directly (PreboundServer).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        // The dashboard's services (HTTP server, store ingestion) start and stop in order (Hummingbird uses it too).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"), // LogHandler.log(event:)
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // The only C: variadic calls, GNU-only symbols and the code between clone and exec.
        .target(
            name: "CFlowForgeSys",
            cSettings: strictC,
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        .target(name: "FlowForgeSystem", dependencies: ["CFlowForgeSys"]),
        .target(name: "FlowForgeWire"),
        .target(name: "FlowForgeReaper", dependencies: ["FlowForgeWire", "FlowForgeSystem"]),
        .target(name: "FlowForgeAgent", dependencies: ["FlowForgeWire", "FlowForgeSystem"]),
        .target(name: "FlowForgeDetector", dependencies: ["FlowForgeAgent", "FlowForgeWire", "FlowForgeSystem"]),
        // What the API, the store and the metrics share: events as the API serves them, incidents, a run's state,
        // the source and action protocols. No HTTP, no database.
        .target(name: "FlowForgeModel", dependencies: ["FlowForgeWire"]),
        .target(
            name: "FlowForgeMetrics",
            dependencies: [
                "FlowForgeModel", "FlowForgeWire",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(name: "FlowForgeConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "FlowForgeCLI",
            dependencies: [
                "FlowForgeSystem",
                "FlowForgeWire",
                "FlowForgeDetector",
                "FlowForgeConfig",
                "FlowForgeModel",
                "FlowForgeMetrics",
                "FlowForgeStore",
                "FlowForgeAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "flowforge", dependencies: ["FlowForgeCLI"]),
        // A fully static executable (Swift runtime, libc, libseccomp, libcap): the reaper maps and keeps
        // resident only the pages it uses, and loads no shared library at start (docs/BENCHMARKS.md, reaper
        // memory: 7.4 MiB with -static-stdlib, 5.0 MiB static). It never resolves names (NSS): the CLI
        // passes numeric ids.
        .executableTarget(
            name: "flowforge-reaper",
            dependencies: ["FlowForgeReaper"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .executableTarget(name: "flowforge-detector", dependencies: ["FlowForgeDetector"]),
        .target(
            name: "FlowForgeAPI",
            dependencies: [
                "FlowForgeAgent", "FlowForgeModel", "FlowForgeMetrics", "FlowForgeWire", "FlowForgeSystem",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Dashboard")]
        ),
        .executableTarget(name: "flowforge-api", dependencies: ["FlowForgeAPI"]),
        .target(
            name: "FlowForgeStore",
            dependencies: [
                "FlowForgeModel", "FlowForgeMetrics", "FlowForgeWire", "FlowForgeSystem",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "FlowForgeWireTests", dependencies: ["FlowForgeWire"]),
        .testTarget(name: "FlowForgeReaperTests", dependencies: ["FlowForgeReaper", "FlowForgeWire"]),
        .testTarget(name: "FlowForgeDetectorTests", dependencies: ["FlowForgeDetector"]),
        .testTarget(name: "FlowForgeConfigTests", dependencies: ["FlowForgeConfig"]),
        // Test-only, shared by the test targets: the supervised run, waits with deadlines, the marker scan, one
        // loopback HTTP client, the Prometheus text and openapi.yaml (read with Yams). Not a product.
        .target(
            name: "FlowForgeTestSupport",
            dependencies: [.product(name: "Yams", package: "Yams")],
            path: "Tests/FlowForgeTestSupport"
        ),
        // The API's routes in process (HummingbirdTesting, no server, no run) and openapi.yaml itself.
        .testTarget(
            name: "FlowForgeAPITests",
            dependencies: [
                "FlowForgeAPI", "FlowForgeModel", "FlowForgeMetrics", "FlowForgeWire", "FlowForgeTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "FlowForgeIntegrationTests",
            dependencies: [
                "FlowForgeSystem", "FlowForgeWire", "FlowForgeModel", "FlowForgeMetrics", "FlowForgeStore", "FlowForgeAPI", "FlowForgeTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), // the store durability test reads the spool offsets
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
