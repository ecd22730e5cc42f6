// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Driftless",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "driftless", targets: ["driftless"]),
        .library(name: "DriftlessCore", targets: ["DriftlessCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Already in the graph through Hummingbird; named for the request-head timeout handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
    ],
    targets: [
        // C libraries, seen only by their wrapper modules.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        // Debian ships libpg_query without a pkg-config file: the module map links it by name.
        .systemLibrary(name: "CLibPgQuery", providers: [.apt(["libpg-query-dev"])]),
        // glibc's malloc.h (the C library itself; nothing to install).
        .systemLibrary(name: "CMalloc"),

        // Runs blocking C calls on threads of their own, never on the cooperative pool.
        .target(name: "BlockingIO"),

        // Safe wrappers.
        .target(name: "Postgres", dependencies: ["CLibPQ", "BlockingIO"]),
        .target(name: "GitSource", dependencies: ["CLibGit2", "BlockingIO"]),
        // PostgreSQL's own parser; pure computation, so the domain may use it.
        .target(name: "SQLParser", dependencies: ["CLibPgQuery"]),

        // The pure domain: blueprints, catalog, diff, SQL, reports. No I/O.
        .target(
            name: "DriftlessCore",
            dependencies: [
                "SQLParser",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // One reconciliation against a real database.
        .target(name: "Reconciler", dependencies: ["DriftlessCore", "Postgres", "GitSource"]),

        // The long-running controller: loop, HTTP API, webhooks, metrics, lifecycle.
        .target(
            name: "Controller",
            dependencies: [
                "DriftlessCore", "Reconciler", "Postgres", "GitSource", "BlockingIO", "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RS256 JWT signatures of API callers.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),

        // The commands; the executable only calls into this.
        .target(
            name: "DriftlessCLI",
            dependencies: [
                "DriftlessCore", "Reconciler", "Postgres", "GitSource", "Controller", "BlockingIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "driftless", dependencies: ["DriftlessCLI"]),

        // The blueprint decoder under libFuzzer (scripts/fuzz); built plainly, it replays inputs.
        .executableTarget(name: "BlueprintFuzzer", dependencies: ["DriftlessCore"]),

        // Starts throwaway PostgreSQL clusters with a Supabase emulation, builds git repositories.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "GitSource", "BlockingIO"],
            resources: [.copy("Resources/supabase-emulation.sql"), .copy("Resources/supabase-legacy-privileges.sql")]
        ),

        .testTarget(name: "DriftlessCoreTests", dependencies: ["DriftlessCore", "SQLParser", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "DriftlessCore", "Reconciler", "Postgres", "GitSource", "TestSupport", "DriftlessCLI", "Controller", "BlockingIO",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
