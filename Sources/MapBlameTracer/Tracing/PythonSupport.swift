import CShims
import Glibc
import MapBlameModel

/// Which modules of the traced processes are CPython 3.11 interpreters, and their layouts: a
/// module whose file name starts with `python` or `libpython` and has `_PyRuntime` is one; its
/// layout comes from its own DWARF or from its debug file found by build-id
/// (/usr/lib/debug/.build-id/, Debian's python3.11-dbg). An interpreter whose layout cannot be
/// read (another version, no debug info) is named once on stderr and its stacks stay native.
package final class PythonSupport {
    /// Layouts by module path (nil: not an interpreter, or not one we can read).
    private var layouts: [String: Read?] = [:]
    /// Interpreters by address space id and module path (each space has its load bias).
    private var interpreters: [SpaceModule: PythonInterpreter?] = [:]

    private struct SpaceModule: Hashable {
        var space: Int
        var path: String
    }
    /// Modules already named on stderr (once per run, not once per process).
    private var noticed = Set<String>()

    package init() {}

    /// The interpreter `frame` (native, in module `path`) belongs to in `space`, found on the first
    /// frame of that module; nil for other modules. `notice` is told why an interpreter is not read.
    func interpreter(for frame: Frame, path: String, space: Int, tid: Int32, notice: (String) -> Void) -> PythonInterpreter? {
        let key = SpaceModule(space: space, path: path)
        if let known = interpreters[key] { return known }
        var found: PythonInterpreter?
        if let read = layout(path: path, tid: tid), let file = Self.readable(path, tid: tid),
           let segments = ElfLoadSegments(path: file),
           let segment = segments.segments.first(where: { frame.fileOffset >= $0.offset && frame.fileOffset - $0.offset < $0.filesz }) {
            let bias = frame.ip &- (frame.fileOffset - segment.offset + segment.vaddr)
            if let problem = Self.problem(read, bias: bias, tid: tid) {
                if noticed.insert(path).inserted { notice("no Python frames for \(path): \(problem); its stacks are native only") }
            } else {
                found = PythonInterpreter(layout: read.layout, bias: bias)
            }
        }
        interpreters[key] = .some(found)
        return found
    }

    /// Whether a module may be an interpreter, by its file name (a cheap test before reading it).
    /// Asked for every frame of every backtrace: read as bytes (a Character search was 13% of the
    /// tracer's time on a program without Python).
    static func mayBeInterpreter(_ path: String) -> Bool {
        let bytes = path.utf8
        let base = bytes.lastIndex(of: UInt8(ascii: "/")).map { bytes[bytes.index(after: $0)...] } ?? bytes[...]
        return base.starts(with: "python".utf8) || base.starts(with: "libpython".utf8)
    }

    /// The file mapped at `path`, as the tracee sees it (another mount namespace) or here.
    static func readable(_ path: String, tid: Int32) -> String? {
        ["/proc/\(tid)/root\(path)", path].first { access($0, R_OK) == 0 }
    }

    /// What reading a module's layout gave: `complete` when its DWARF (or its debug file's) has
    /// every member, otherwise only its symbols; `debugFile` is where its debug info was looked for.
    private struct Read {
        var layout: cshims_python_layout
        var complete: Bool
        var debugFile: String
    }

    /// The layout of the interpreter at `path` (nil: not an interpreter, no `_PyRuntime`).
    private func layout(path: String, tid: Int32) -> Read? {
        if let known = layouts[path] { return known }
        var result: Read?
        var layout = cshims_python_layout()
        let file = Self.readable(path, tid: tid)
        let rc = file.map { cshims_python_layout_read($0, &layout) } ?? -1
        if let file, rc != -1, layout.runtime != 0 {
            result = Read(layout: layout, complete: rc == 0, debugFile: "its own DWARF")
            if rc != 0, let id = BuildID.read(path: file), id.count > 2 {
                let debug = "/usr/lib/debug/.build-id/\(id.prefix(2))/\(id.dropFirst(2)).debug"
                result?.debugFile = debug
                var separate = cshims_python_layout()
                if cshims_python_layout_read(Self.readable(debug, tid: tid) ?? debug, &separate) == 0 {
                    result = Read(layout: separate, complete: true, debugFile: debug)
                }
            }
        }
        layouts[path] = .some(result)
        return result
    }

    /// Why the interpreter's frames cannot be read, nil when they can: its version (`Py_Version`,
    /// read from the process; 3.11 is the first to have it) must be 3.11, and its layout complete.
    private static func problem(_ read: Read, bias: UInt64, tid: Int32) -> String? {
        guard read.layout.version != 0, let word = RemoteMemory(pid: tid).word(bias &+ read.layout.version) else {
            return "it is not CPython 3.11 (no Py_Version: an older Python)"
        }
        let hex = word & 0xffff_ffff
        guard hex >> 16 == 0x030b else { return "Python \(hex >> 24).\((hex >> 16) & 0xff) is not supported (CPython 3.11 only)" }
        guard read.complete else {
            return "no debug info for its exact build (looked in \(read.debugFile); Debian: python3.11-dbg)"
        }
        return nil
    }
}
