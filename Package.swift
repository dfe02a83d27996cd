// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mapblame",
    products: [
        .executable(name: "mapblame", targets: ["MapBlameCLI"]),
        .library(name: "MapBlame", targets: ["MapBlame"]),
        // Test fixture: a shared library with a large .bss, dlopen()ed by mbfixture.
        .library(name: "mbfixturelib", type: .dynamic, targets: ["MBFixtureLib"]),
        // Test helper: preloaded into mapblame, aborts at a munmap of memory that is not mapped.
        .library(name: "mbunmapcheck", type: .dynamic, targets: ["MBUnmapCheck"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The C shim: variadic ptrace/syscall, wait-status macros, the traced child's side of
        // fork+exec (seccomp filter), and the remote-unwinding glue (libunwind; libdwfl for 32-bit code).
        .target(
            name: "CShims",
            path: "CShims",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [
                // libunwind-ptrace.so has no DT_NEEDED for its dependencies; never link plain -lunwind
                // (its _Unwind_* would replace libgcc_s for Swift and C++).
                .linkedLibrary("unwind-ptrace"),
                .linkedLibrary("unwind-generic"),
                .linkedLibrary("lzma"),
                // elfutils: unwinding 32-bit code (unwind32.c).
                .linkedLibrary("dw"),
                .linkedLibrary("elf"),
                // zlib: gzip of pprof profiles (gzip.c).
                .linkedLibrary("z"),
            ]
        ),
        // elfutils (libdw/libdwfl/libelf) headers, imported directly by Swift.
        .systemLibrary(name: "CElfUtils", path: "Sources/CElfUtils"),
        // Rust (libiberty) and C++ (libstdc++) demanglers, imported directly by Swift.
        .systemLibrary(name: "CDemangle", path: "Sources/CDemangle"),
        // The library, in layers whose dependencies run one way (README "Source layout"):
        // Model <- Tracer, Model <- Analysis, and the umbrella over all three.
        // The data: address spaces, mapping events, the trace format, procfs parsers, the report
        // model, output files. Knows nothing of ptrace loops, symbols or words.
        .target(
            name: "MapBlameModel",
            dependencies: ["CShims", "CElfUtils"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Recording: the ptrace loop, seccomp, seizing and freezing processes, unwinding.
        .target(
            name: "MapBlameTracer",
            dependencies: ["MapBlameModel", "CShims", "CElfUtils"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Understanding: replay, classification, evidence, verification, symbols, reporters, baselines.
        .target(
            name: "MapBlameAnalysis",
            dependencies: ["MapBlameModel", "CElfUtils", "CDemangle"],
            // The HTML report's script and stylesheet, as real files (checked by node --check in
            // the tests), embedded in the library: the page stays one self-contained file.
            resources: [.embedInCode("Reporting/Resources/report.js"), .embedInCode("Reporting/Resources/report.css"),
                        .embedInCode("Reporting/Resources/report-time.js"), .embedInCode("Reporting/Resources/report-tree.js")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The public API: record -> trace -> report pipelines, MappingTrace, Explainer; re-exports the layers.
        .target(
            name: "MapBlame",
            dependencies: ["MapBlameModel", "MapBlameTracer", "MapBlameAnalysis"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The executable's own sigprocmask, quiet inside backtraces (see its source): linked into
        // mapblame only, never into programs that use the library.
        .target(
            name: "CQuietSigmask",
            dependencies: ["CShims"],
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .executableTarget(
            name: "MapBlameCLI",
            dependencies: [
                "MapBlame",
                "CQuietSigmask",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Demo program for `make demo`: reproduces the unnamed regions of the mission statement.
        .executableTarget(
            name: "mapblame-demo",
            path: "Sources/Fixtures/demo",
            cSettings: [.unsafeFlags(["-g", "-O0"])],
            linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("dl")]
        ),
        // Test fixtures: C programs with known mappings, one scenario per argv[1].
        .executableTarget(
            name: "mbfixture",
            path: "Sources/Fixtures/mbfixture",
            cSettings: [.unsafeFlags(["-g", "-O0"])],
            linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("dl")]
        ),
        .target(
            name: "MBFixtureLib",
            path: "Sources/Fixtures/MBFixtureLib",
            cSettings: [.unsafeFlags(["-g", "-O0"])]
        ),
        .target(
            name: "MBUnmapCheck",
            path: "Sources/Fixtures/MBUnmapCheck"
        ),
        // Helpers shared by the test targets (a seedable generator, temporary directories, running a tool).
        .target(name: "MapBlameTestSupport", path: "Sources/MapBlameTestSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        // Each layer's own tests (pure: no process is traced), then the whole product's.
        .testTarget(
            name: "MapBlameModelTests",
            dependencies: ["MapBlameModel", "MapBlameTestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MapBlameAnalysisTests",
            dependencies: ["MapBlameAnalysis", "MapBlameModel", "MapBlameTestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MapBlameTracerTests",
            dependencies: ["MapBlameTracer", "MapBlameModel", "MapBlameTestSupport", "CShims"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MapBlameTests",
            dependencies: ["MapBlame", "MapBlameCLI", "MapBlameTestSupport", "mbfixture", "mapblame-demo"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
