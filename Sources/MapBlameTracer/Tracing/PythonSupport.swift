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
    private var layouts: [String: cshims_python_layout?] = [:]
    /// Interpreters by address space id and module path (each space has its load bias).
    private var interpreters: [String: PythonInterpreter?] = [:]

    package init() {}

    /// The interpreter `frame` (native, in module `path`) belongs to in `space`, found on the first
    /// frame of that module; nil for other modules. `notice` is told why an interpreter is not read.
    func interpreter(for frame: Frame, path: String, space: Int, tid: Int32, notice: (String) -> Void) -> PythonInterpreter? {
        let key = "\(space) \(path)"
        if let known = interpreters[key] { return known }
        var found: PythonInterpreter?
        if let layout = layout(path: path, tid: tid, notice: notice),
           let file = Self.readable(path, tid: tid), let segments = ElfLoadSegments(path: file),
           let segment = segments.segments.first(where: { frame.fileOffset >= $0.offset && frame.fileOffset - $0.offset < $0.filesz }) {
            let bias = frame.ip &- (frame.fileOffset - segment.offset + segment.vaddr)
            found = version(layout, bias: bias, tid: tid, path: path, notice: notice)
                ? PythonInterpreter(layout: layout, bias: bias) : nil
        }
        interpreters[key] = .some(found)
        return found
    }

    /// Whether a module may be an interpreter, by its file name (a cheap test before reading it).
    static func mayBeInterpreter(_ path: String) -> Bool {
        let base = path.split(separator: "/").last ?? ""
        return base.hasPrefix("python") || base.hasPrefix("libpython")
    }

    /// The file mapped at `path`, as the tracee sees it (another mount namespace) or here.
    static func readable(_ path: String, tid: Int32) -> String? {
        ["/proc/\(tid)/root\(path)", path].first { access($0, R_OK) == 0 }
    }

    private func layout(path: String, tid: Int32, notice: (String) -> Void) -> cshims_python_layout? {
        if let known = layouts[path] { return known }
        var result: cshims_python_layout?
        var layout = cshims_python_layout()
        let rc = Self.readable(path, tid: tid).map { cshims_python_layout_read($0, &layout) } ?? -1
        if let file = Self.readable(path, tid: tid), rc != -1, layout.runtime != 0 {
            if rc == 0 {
                result = layout
            } else if let id = BuildID.read(path: file), id.count > 2 {
                let debug = "/usr/lib/debug/.build-id/\(id.prefix(2))/\(id.dropFirst(2)).debug"
                var separate = cshims_python_layout()
                if cshims_python_layout_read(Self.readable(debug, tid: tid) ?? debug, &separate) == 0 {
                    result = separate
                } else {
                    notice("no Python frames for \(path): no debug info for CPython 3.11 in it or in \(debug) (Debian: python3-dbg for /usr/bin/python3); its stacks are native only")
                }
            } else {
                notice("no Python frames for \(path): it has no build-id to find its debug info by; its stacks are native only")
            }
        }
        layouts[path] = .some(result)
        return result
    }

    /// Whether the interpreter says it is 3.11 (`Py_Version`, 3.11's own symbol, read from the
    /// process): a layout read from the right DWARF of another version must not be used either.
    private func version(_ layout: cshims_python_layout, bias: UInt64, tid: Int32, path: String, notice: (String) -> Void) -> Bool {
        guard layout.version != 0, let word = RemoteMemory(pid: tid).word(bias &+ layout.version) else {
            notice("no Python frames for \(path): its version cannot be read; its stacks are native only")
            return false
        }
        let hex = word & 0xffff_ffff
        guard hex >> 16 == 0x030b else {
            notice("no Python frames for \(path): Python \(hex >> 24).\((hex >> 16) & 0xff) is not supported (CPython 3.11 only); its stacks are native only")
            return false
        }
        return true
    }
}
