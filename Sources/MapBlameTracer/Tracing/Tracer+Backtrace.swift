import CShims
import Glibc
import MapBlameModel

/// A stopped thread's call stack: unwound with the tracer's own model of the address space (no
/// /proc/PID/maps read), as frames the trace stores once per distinct stack.
extension Tracer {
    /// The model's file mapping containing an address, and its path when asked, for the
    /// unwinder's per-module tables (the context is the SpaceState being unwound).
    private static let mappingOf: cshims_mapping_lookup = { context, ip, start, end, path, pathSize in
        guard let context else { return -1 }
        let space = Unmanaged<SpaceState>.fromOpaque(context).takeUnretainedValue()
        guard let segment = space.model.map.segment(containing: ip), segment.value.isFile,
              let name = segment.value.name, name.hasPrefix("/") else { return -1 }
        start.pointee = segment.range.lowerBound
        end.pointee = segment.range.upperBound
        guard let path else { return 0 }
        let bytes = Array(name.utf8)
        guard bytes.count < pathSize else { return -1 }
        bytes.withUnsafeBufferPointer { UnsafeMutableRawPointer(path).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        path[bytes.count] = 0
        return 0
    }

    /// The unwind table of the module at `ip` (the context is the SpaceState).
    private static let indexOf: cshims_index_lookup = { context, ip, table in
        guard let context else { return -1 }
        let space = Unmanaged<SpaceState>.fromOpaque(context).takeUnretainedValue()
        guard let index = space.ehIndex(at: ip) else { return -1 }
        table.pointee = cshims_eh_index(entries: index.entries.flatMap { UnsafePointer($0.baseAddress) },
                                        remote_table: index.remoteTable, count: index.count, segbase: index.segbase,
                                        start_ip: index.code.lowerBound, end_ip: index.code.upperBound,
                                        eh_frame: index.ehFrame?.mapping.bytes.assumingMemoryBound(to: UInt8.self),
                                        eh_frame_start: index.ehFrame?.start ?? 0,
                                        eh_frame_size: UInt64(index.ehFrame?.mapping.length ?? 0))
        return 0
    }

    /// Fills `ips` with the stopped task's call stack: libunwind for 64-bit code, libdwfl for
    /// 32-bit code. Returns how many frames, 0 or less for none.
    private func unwind(_ task: TaskState, regs: cshims_regs) -> Int {
        guard options.maxFrames > 0 else { return 0 }
        var registers = regs
        let space = task.process.space
        if regs.cs == Tracer.user32CodeSegment {
            guard let u = space.unwinderFor32BitCode() else { return 0 }
            return Int(cshims_backtrace32(u, task.tid, &registers, &ips, Int32(options.maxFrames)))
        }
        guard let u = space.unwinder else { return 0 }
        let context = Unmanaged.passUnretained(space).toOpaque()
        space.unwindingTid = task.tid
        cshims_unwinder_set_code_check(u, Tracer.isCode)
        return Int(cshims_backtrace(u, task.tid, &registers, &ips, Int32(options.maxFrames), Tracer.mappingOf,
                                    Tracer.indexOf, context))
    }

    package func backtrace(_ task: TaskState, regs: cshims_regs) -> Int {
        let model = task.process.space.model
        var count = unwind(task, regs: regs)
        if count <= 0 {
            ips[0] = regs.rip
            count = options.maxFrames > 0 ? 1 : 0
        }
        let frames = ips[0..<count].map { ip -> Frame in
            guard let s = model.map.segment(containing: ip) else { return Frame(ip: ip, module: nil, fileOffset: ip) }
            return Frame(ip: ip, module: s.value.name, fileOffset: ip - s.range.lowerBound + s.value.fileOffset)
        }
        let space = task.process.space, tid = task.tid
        return writer.stackID(withPythonFrames(frames, task: task, regs: regs), pid: tid,
                              openModule: { space.openModuleFromModel(at: $0, tid: tid) })
    }
}
