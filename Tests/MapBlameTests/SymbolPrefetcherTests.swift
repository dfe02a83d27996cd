import Foundation
import Testing
import CShims
@testable import MapBlame

/// The background symbolization of `run` and `attach`: the frames of every new stack are
/// symbolized on an idle-priority thread while the program runs, and the report built with that
/// symbolizer is the one a fresh symbolizer gives.
@Suite struct SymbolPrefetcherTests {
    @Test("Frames symbolized during the recording give the same report as a fresh symbolizer")
    func sameReport() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-prefetch-\(UUID().uuidString).trace").path
        defer { unlink(path) }
        let prefetcher = SymbolPrefetcher(symbolizer: Symbolizer())
        var options = TraceOptions()
        options.ownProcessGroup = true
        let recorded = try Recorder.record(command: [Build.demo], options: prefetcher.observing(options), to: OutputFile.open(path))
        #expect(recorded.status == .code(0))

        let worker = try #require(prefetcher.worker, "no worker thread")
        let policy = Self.policy(task: "\(worker)")
        prefetcher.waitUntilIdle()
        let warm = prefetcher.finish()
        #expect(policy == Self.schedIdle, "the worker runs under SCHED_IDLE, not policy \(String(describing: policy))")

        let recording = try TraceReplayer.replay(path: path)
        let fileFrames = Set(recording.stacks.flatMap { stack in
            stack.enumerated().compactMap { position, frame in
                frame.module?.hasPrefix("/") == true ? "\(frame.module!)+\(frame.fileOffset)/\(position > 0)" : nil
            }
        })
        // Each frame of each new stack (so at least each distinct one) went through the worker.
        #expect(prefetcher.prefetched >= fileFrames.count && !fileFrames.isEmpty,
                "\(prefetcher.prefetched) frames prefetched, \(fileFrames.count) distinct in the trace")

        var warmBuilder = ReportBuilder(recording: recording, symbolizer: warm)
        var coldBuilder = ReportBuilder(recording: try TraceReplayer.replay(path: path), symbolizer: Symbolizer())
        let warmReport = warmBuilder.build(), coldReport = coldBuilder.build()
        #expect(JSONReporter.render(warmReport) == JSONReporter.render(coldReport))
        let named = warmReport.processes.flatMap(\.regions).flatMap(\.origins).compactMap { $0.site?.line }
        #expect(!named.isEmpty, "the demo's regions name their source lines")
    }

    @Test("A file mapped as code is opened ahead, once, even before any of its frames is seen")
    func codeMappedAhead() {
        let prefetcher = SymbolPrefetcher(symbolizer: Symbolizer())
        prefetcher.codeMapped(SymbolizerTests.libc)
        prefetcher.codeMapped(SymbolizerTests.libc)
        prefetcher.codeMapped("[vdso]")
        prefetcher.waitUntilIdle()
        let symbolizer = prefetcher.finish()
        #expect(symbolizer.isOpen(path: SymbolizerTests.libc))
        #expect(prefetcher.prepared == 1, "libc once, [vdso] (no file) never")
    }

    @Test("The worker runs on the CPUs mapblame started with, even when the tracing thread is pinned")
    func workerKeepsStartMask() throws {
        let before = Self.allowedCPUs(task: "self")
        let prefetcher = SymbolPrefetcher(symbolizer: Symbolizer())
        var saved = cshims_cpu_mask()
        #expect(cshims_get_mask(&saved) == 0)
        #expect(cshims_pin_self(0) == 0)  // as --cpu 0 does; the worker is started from this thread
        prefetcher.codeMapped(SymbolizerTests.libc)
        #expect(cshims_set_mask(&saved) == 0)
        prefetcher.waitUntilIdle()
        let worker = try #require(prefetcher.worker, "no worker thread")
        let cpus = Self.allowedCPUs(task: "self/task/\(worker)")
        _ = prefetcher.finish()
        #expect(cpus == before, "worker \(worker): \(String(describing: cpus)) vs \(String(describing: before))")
    }

    @Test("finish before any stack, and enqueue after finish, do nothing")
    func finishEarly() {
        let prefetcher = SymbolPrefetcher(symbolizer: Symbolizer())
        _ = prefetcher.finish()
        prefetcher.enqueue([Frame(ip: 0x1000, module: "/lib/x86_64-linux-gnu/libc.so.6", fileOffset: 0x1000)])
        #expect(!prefetcher.hasWorker, "no worker thread was started")
        #expect(prefetcher.prefetched == 0)
    }

    static let schedIdle = 5

    static func allowedCPUs(task: String) -> String? {
        guard let status = try? String(contentsOfFile: "/proc/\(task)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
    }

    static func policy(task tid: String) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 38 ? Int(fields[38]) : nil  // fields[0] is field 3 (state)
    }

}
