import Foundation
import Testing

/// `make bench` stays out of `make test`, but its scripts must keep working: one tiny round of each
/// (bench/run.py and bench/slope.py) with the mapblame under test. No timing is checked, only that
/// every tool ran and, where strace is installed (run.py's count check), that mapblame recorded
/// what strace counts.
@Suite struct BenchSmokeTests {
    static let bench = Build.packageRoot + "/bench"

    @Test("bench/run.py: one round of mmap_loop and cpu_bound under every tool asked for")
    func runSuite() throws {
        let result = try runCommand(["/usr/bin/env", "python3", Self.bench + "/run.py", "--quick", "--rounds", "1", "--scale", "0.05",
                                     "--workloads", "mmap_loop,cpu_bound", "--tools", "floor,mapblame,mb record",
                                     "--no-install", "--no-save", "--mapblame", Build.mapblame])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("| mmap_loop |") || $0.hasPrefix("| cpu_bound |") }
        for workload in ["mmap_loop", "cpu_bound"] {
            for tool in ["untraced", "floor", "mapblame", "mb record"] {
                let row = rows.first { $0.hasPrefix("| \(workload) | \(tool) |") }
                #expect(row != nil, "\(workload) × \(tool) missing:\n\(result.stdout)")
                let cells = row?.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
                #expect(cells.count > 4 && Double(cells[4]) != nil, "no median time: \(row ?? "")")
            }
        }
        #expect(!result.stdout.contains("FAILED") && !result.stdout.contains("count mismatch"), "\(result.stdout)")
    }

    @Test("bench/slope.py: per-call rows for the floor and mapblame, pinned and not")
    func slope() throws {
        let result = try runCommand(["/usr/bin/env", "python3", Self.bench + "/slope.py", "--sizes", "40,120", "--rounds", "1",
                                     "--no-save", "--mapblame", Build.mapblame])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        for tool in ["| floor | one (0) |", "| mapblame record --cpu | one (0) |", "| mapblame record --cpu --frames 0 | one (0) |",
                     "| floor | any |", "| mapblame record | any |"] {
            let row = result.stdout.split(separator: "\n").first { $0.hasPrefix(tool) }
            let cells = row?.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            #expect(cells.count == 4 && Double(cells[2]) != nil, "\(tool) missing or without a cost:\n\(result.stdout)")
        }
        // mmap_loop N makes 2.25 N mapping calls after start-up: 270 - 90 = 180 more at N=120.
        let header = result.stdout.split(separator: "\n").first ?? ""
        let counts = header.split(separator: ":").last.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
        #expect(counts.count >= 2 && counts[1] - counts[0] == 180, "\(header)")
    }
}
