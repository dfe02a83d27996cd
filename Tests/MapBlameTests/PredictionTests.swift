import Foundation
import Testing

/// munmap and mprotect results the tracer predicts instead of stopping at the syscall's exit
/// (Tracer+Exitless.swift): each recorded result must be what the program itself saw, at the
/// edges of the prediction (holes, becoming writable, bad arguments, sealed mappings), and the
/// model must agree with the kernel page by page.
struct PredictionTests {
    @Test func recordedResultsAreWhatTheProgramSaw() throws {
        let run = try TracedRun([Build.fixture, "predict"], options: ["--verify", "--all-events"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let root = run.root
        #expect((root["verify"] as? [String: Any])?["mismatched_pages"] as? Int == 0, "\(root["verify"] ?? "")")
        let p = run.address("p_at")
        let events = (root["events"] as? [[String: Any]] ?? []).filter { ["munmap", "mprotect", "mmap"].contains($0["syscall"] as? String) }
        // The last mmap returning p (ld.so may have had the same address earlier, then unmapped it).
        let first = try #require(events.lastIndex { $0["syscall"] as? String == "mmap" && hex($0["result"]) == p }, "no mmap of p")
        let names = ["readonly", "writable", "hole", "across_hole", "unaligned", "bad_prot", "sealed_munmap", "sealed_mprotect", "after_seal"]
        let calls = events[(first + 1)...].filter { $0["syscall"] as? String != "mmap" }.prefix(names.count)
        #expect(calls.count == names.count, "\(calls.count) calls recorded")
        for (name, event) in zip(names, calls) {
            let seen = run.finished.values[name] ?? "?"
            let recorded = event["result"] as? String ?? "?"
            #expect(seen == "0" ? recorded == "0x0" : recorded == "-" + seen,
                    "\(name): the program saw \(seen), mapblame recorded \(recorded)")
        }
        #expect(run.finished.values["sealed_munmap"] == "EPERM", "mseal is not available: the sealed case was not exercised")
    }
}
