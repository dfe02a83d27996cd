// swift-tools-version:6.0
// libFuzzer targets for mapblame's parsers, one executable per parser (README "Development",
// `make fuzz`). A separate package so the normal build never sees them: each needs libFuzzer
// linked in, which only the Makefile's fuzz build passes (with coverage instrumentation of the
// MapBlame library).
import PackageDescription

let targets = ["maps", "smaps", "trace", "trace-records", "json", "baseline"]

let package = Package(
    name: "mapblame-fuzz",
    dependencies: [.package(name: "mapblame", path: "..")],
    targets: [
        // Declares LLVMFuzzerRunDriver (libFuzzer's entry point for programs with their own main).
        .target(name: "CFuzz"),
        .target(name: "FuzzSupport", dependencies: ["CFuzz"], swiftSettings: [.swiftLanguageMode(.v6)]),
    ] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport", .product(name: "MapBlame", package: "mapblame")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    }
)
