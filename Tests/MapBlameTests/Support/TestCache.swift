import Foundation

/// The symbol cache of the programs the tests start: one directory of this test process, removed
/// at its exit, so that tests neither write to the user's ~/.cache nor read what other runs left
/// there. A test that gives a cache directory of its own in the temporary directory keeps it.
enum TestCache {
    static let directory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-test-cache-\(getpid())").path
        atexit { try? FileManager.default.removeItem(atPath: TestCache.directory) }
        return dir
    }()

    static func isolating(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        let temporary = FileManager.default.temporaryDirectory.path
        if let own = environment["XDG_CACHE_HOME"], own.hasPrefix(temporary + "/") { return environment }
        environment["XDG_CACHE_HOME"] = directory
        return environment
    }
}
