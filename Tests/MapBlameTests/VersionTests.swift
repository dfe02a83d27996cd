import Foundation
import Testing

/// `mapblame --version` of a plain `swift build` (what the tests run): the version number from its
/// one place, "unknown commit" (only `make` links the commit in; packaging/test-install.sh checks
/// that one), and the libunwind and elfutils versions of the packages installed here.
@Suite("version")
struct VersionTests {
    /// "1.6.2" for dpkg's "1.6.2-3" (epoch and Debian revision dropped).
    static func upstreamVersion(_ package: String) throws -> String {
        let out = try runCommand(["/usr/bin/dpkg-query", "-W", "-f", "${Version}", package]).stdout
        var version = Substring(out)
        if let colon = version.firstIndex(of: ":") { version = version[version.index(after: colon)...] }
        if let dash = version.lastIndex(of: "-") { version = version[..<dash] }
        return String(version)
    }

    @Test func versionNamesBuildAndLibraries() throws {
        let source = try String(contentsOfFile: Build.packageRoot + "/Sources/MapBlameCLI/Version.swift", encoding: .utf8)
        let number = try #require(source.split(separator: "\n").first { $0.hasPrefix("let mapblameVersion = \"") })
            .split(separator: "\"")[1]
        let run = try runCommand([Build.mapblame, "--version"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(run.stdout)")
        #expect(lines.first == "mapblame \(number) (unknown commit)")
        let unwind = try Self.upstreamVersion("libunwind-dev")
        #expect(lines.dropFirst().first?.hasPrefix("libunwind \(unwind) at build, running /") == true, "\(run.stdout)")
        let loaded = lines.dropFirst().first?.components(separatedBy: ", running ").last ?? ""
        #expect(loaded.contains("libunwind") && FileManager.default.fileExists(atPath: loaded), "\(loaded)")
        #expect(lines.last == "elfutils \(try Self.upstreamVersion("libdw1")) running (libdw's dwfl_version)")
    }
}
