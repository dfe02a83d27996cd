import Foundation
import Testing

/// Programs no one here wrote: every anonymous byte of their final map must be explained.
@Suite("mapblame run on real programs")
struct RealProgramTests {
    static func installed(_ program: String) -> Bool {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + program) }
    }

    static let sqlWorkload = "create table t(a integer primary key, b text);"
        + " with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000)"
        + " insert into t select i, hex(randomblob(64)) from n; create index tb on t(b);"
        + " select count(*), sum(length(b)) from t where b like 'A%';"

    static let programs: [[String]] = [
        ["python3", "-c", "pass"],
        ["python3", "-c", "import threading; ts = [threading.Thread(target=lambda: bytearray(1 << 20)) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]"],
        ["sqlite3", ":memory:", ".quit"],
        ["sqlite3", ":memory:", sqlWorkload],
        ["sh", "-c", "ls /"],
        ["git", "-C", Build.packageRoot, "log", "--oneline", "-n", "5"],
        ["java", "-version"],
        ["node", "-e", "const { Worker } = require('worker_threads'); new Worker('1', { eval: true }).on('exit', () => {})"],
    ]

    /// Each program under `run --verify`: the model agrees with the kernel at every exit, the words
    /// with explain's evidence, and every anonymous byte has an origin. Skips (with the reason) where a program is not installed.
    @Test(arguments: programs)
    func everyAnonymousByteHasAnOrigin(command: [String]) throws {
        if !Self.installed(command[0]) { try Test.cancel("\(command[0]) is not installed") }
        let run = try TracedRun(command, options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(!run.report.processes.isEmpty)
        #expect(unattributedAnonymousBytes(run.report) == [])
        #expect(run.report.processes.allSatisfy { $0["snapshot"] as? Bool == true })
        for process in run.report.processes {
            let verify = process["verify"] as? [String: Any]
            #expect(verify?["mismatched_pages"] as? Int == 0, "pid \(process["pid"] ?? ""): \(verify?["mismatches"] ?? "")")
            #expect((verify?["label_disagreements"] as? [Any])?.isEmpty == true, "pid \(process["pid"] ?? ""): \(verify?["label_disagreements"] ?? "")")
        }
    }
}
