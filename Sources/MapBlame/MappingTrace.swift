import MapBlameAnalysis
import MapBlameModel
import MapBlameTracer
import Glibc

/// The Swift API for tests: run a program under trace, in-process, and assert on its report.
///
///     let trace = try MappingTrace.run(["./my-server", "--selftest"])
///     #expect(trace.regions(.threadStack).count <= 8)
///     #expect(trace.bytes(.malloc, site: "parse_config") < 4 << 20)
///
/// The program gets its own process group and only that group is waited for, so other children
/// of the calling process (a test runner's) are left alone. Synchronous: ptrace binds the trace to
/// the calling thread.
public struct MappingTrace: Sendable {
    public var status: ExitStatus
    public var report: Report

    public enum Failure: Error, CustomStringConvertible {
        case record(RecordError)
        case read(TraceReadError)
        public var description: String {
            switch self {
            case .record(let e): return e.description
            case .read(let e): return e.description
            }
        }
    }

    public static func run(_ command: [String], options: TraceOptions = TraceOptions(),
                           debugDirectories: [String] = []) throws(Failure) -> MappingTrace {
        var options = options
        options.ownProcessGroup = true
        let trace: OutputFile
        do {
            trace = try OutputFile.temporary(directory: OutputFile.temporaryDirectory, prefix: "mapblame-api-", suffix: ".trace")
        } catch {
            throw .record(.write(TraceWriteError(output: error, path: OutputFile.temporaryDirectory)))
        }
        let path = trace.path ?? trace.name
        defer { unlink(path) }
        let prefetcher = SymbolPrefetcher(symbolizer: Symbolizer(debugDirectories: debugDirectories))
        options = prefetcher.observing(options)
        options.syncTrace = false  // read once and deleted
        let recorded: RecordResult
        do {
            recorded = try Recorder.record(command: command, options: options, to: trace)
        } catch {
            _ = prefetcher.finish()
            throw .record(error)
        }
        let symbolizer = prefetcher.finish()
        do { return MappingTrace(status: recorded.status, report: try Pipeline.report(trace: path, symbolizer: symbolizer)) } catch {
            throw .read(error)
        }
    }

    /// The launched program's own process report (the first one).
    public var program: ProcessReport? { report.processes.first }

    /// Final-map regions of the launched program whose main category is `category`.
    public func regions(_ category: Category) -> [RegionReport] {
        program?.regions.filter { $0.category == category } ?? []
    }

    /// Origins of the launched program in `category`, optionally only those whose site is the
    /// function `site`.
    public func origins(_ category: Category? = nil, site: String? = nil) -> [Origin] {
        (program?.regions ?? []).flatMap(\.origins).filter { o in
            (category == nil || o.category == category) && (site == nil || o.site?.function == site)
        }
    }

    /// Bytes of those origins.
    public func bytes(_ category: Category? = nil, site: String? = nil) -> UInt64 {
        origins(category, site: site).reduce(0) { $0 + UInt64($1.range.count) }
    }
}
