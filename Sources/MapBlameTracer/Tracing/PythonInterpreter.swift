import CShims
import Glibc
import MapBlameModel

/// A CPython 3.11 interpreter mapped in one address space: its structures' layout (from DWARF,
/// `cshims_python_layout_read`) placed at its load bias, and what reading its frame chain in a
/// stopped thread gives. Code objects are remembered by address, checked against the pointers
/// they hold at every use (a freed code object's address may be reused by another).
package final class PythonInterpreter {
    let layout: cshims_python_layout
    let bias: UInt64
    private var codes: [UInt64: Code] = [:]

    private struct Code {
        var key: [UInt64]  // filename, qualname, linetable pointers and first line, as read
        var function: String
        var file: String
        var table: [UInt8]
        var firstLine: Int
        /// Lines found so far, by instruction offset (a loop's calls stop at the same few).
        var lines: [Int: Int] = [:]
    }

    init(layout: cshims_python_layout, bias: UInt64) {
        self.layout = layout
        self.bias = bias
    }

    /// Whether a native frame (its ELF address in the interpreter's module) is in the evaluation
    /// loop, `_PyEval_EvalFrameDefault` (and its cold part): where Python frames go.
    func isEvaluationLoop(elfAddress a: UInt64) -> Bool {
        (a >= layout.eval_start && a < layout.eval_end) || (a >= layout.eval_cold_start && a < layout.eval_cold_end)
    }

    /// The Python frames of the thread whose thread pointer is `fsBase` (CPython's thread_id is
    /// pthread_self, glibc's TCB: the FS base), innermost first, in runs: each run is what one
    /// call of the evaluation loop executes (its last frame is the entry frame, `is_entry`). Empty
    /// when the thread runs no Python (a native thread, an interpreter not started or finished).
    func frames(pid: Int32, fsBase: UInt64, limit: Int) -> [[PythonFrame]] {
        let memory = RemoteMemory(pid: pid)
        let L = layout
        guard var frame = currentFrame(memory, fsBase: fsBase) else { return [] }
        var runs: [[PythonFrame]] = [[]]
        var count = 0
        let size = Int(L.frame_is_entry) + 1
        while frame != 0 && count < limit {
            guard let bytes = memory.bytes(frame, size) else { break }
            let codeAddress = bytes.word(at: L.frame_code), previous = bytes.word(at: L.frame_previous)
            let instruction = bytes.word(at: L.frame_prev_instr)
            if let code = code(memory, at: codeAddress) {
                // prev_instr points at the instruction running (the call), in code units of 2 bytes
                // from co_code_adaptive; before the first one when the frame has not started.
                let start = codeAddress + L.code_adaptive
                let offset = instruction >= start ? Int(instruction - start) : -1
                let line: Int
                if let known = code.lines[offset] {
                    line = known
                } else {
                    line = PythonLineTable.line(code.table, firstLine: code.firstLine, offset: offset)
                    if code.lines.count < 4096 { codes[codeAddress]?.lines[offset] = line }
                }
                runs[runs.count - 1].append(PythonFrame(function: code.function, file: code.file, line: max(line, 0)))
                count += 1
            }
            if bytes[Int(L.frame_is_entry)] != 0 { runs.append([]) }
            frame = previous
        }
        if runs.last?.isEmpty == true { runs.removeLast() }
        return runs
    }

    /// The innermost frame of the thread state whose thread_id is `fsBase` and that runs Python,
    /// among every interpreter's threads. A thread starting another has two such states for a
    /// moment: 3.11's `_thread.start_new_thread` makes the new thread's with the creator's
    /// thread_id (the new thread sets its own when it starts), and that one has no frame yet.
    private func currentFrame(_ memory: RemoteMemory, fsBase: UInt64) -> UInt64? {
        let L = layout
        var interpreter = memory.word(bias + L.runtime + L.runtime_interpreters_head) ?? 0
        var interpreters = 0
        while interpreter != 0 && interpreters < 256 {
            var thread = memory.word(interpreter + L.interp_threads_head) ?? 0
            var threads = 0
            while thread != 0 && threads < 65_536 {
                if memory.word(thread + L.tstate_thread_id) == fsBase, let cframe = memory.word(thread + L.tstate_cframe),
                   cframe != 0, let frame = memory.word(cframe + L.cframe_current_frame), frame != 0 { return frame }
                thread = memory.word(thread + L.tstate_next) ?? 0
                threads += 1
            }
            interpreter = memory.word(interpreter + L.interp_next) ?? 0
            interpreters += 1
        }
        return nil
    }

    private func code(_ memory: RemoteMemory, at address: UInt64) -> Code? {
        let L = layout
        guard address != 0, let head = memory.bytes(address, Int(L.code_adaptive)) else { return nil }
        let key = [head.word(at: L.code_filename), head.word(at: L.code_qualname), head.word(at: L.code_linetable),
                   head.word(at: L.code_firstlineno) & 0xffff_ffff]
        if let known = codes[address], known.key == key { return known }
        guard let table = bytesObject(memory, at: key[2]) else { return nil }
        let code = Code(key: key, function: string(memory, at: key[1]) ?? "?", file: string(memory, at: key[0]) ?? "?",
                        table: table, firstLine: Int(Int32(truncatingIfNeeded: key[3])))
        if codes.count >= 65_536 { codes.removeAll() }
        codes[address] = code
        return code
    }

    /// The bytes of a `bytes` object (the location table), at most 1 MiB.
    private func bytesObject(_ memory: RemoteMemory, at address: UInt64) -> [UInt8]? {
        guard let size = memory.word(address + layout.bytes_size), size <= 1 << 20 else { return nil }
        return memory.bytes(address + layout.bytes_data, Int(size))
    }

    /// A `str` object's text: compact strings (every name and file name of code objects), ASCII
    /// or of 1, 2 or 4 bytes per character; at most 4096 characters.
    private func string(_ memory: RemoteMemory, at address: UInt64) -> String? {
        let L = layout
        guard address != 0, let head = memory.bytes(address, Int(L.compact_size)) else { return nil }
        let length = Int(Int64(bitPattern: head.word(at: L.ascii_length)))
        func bits(_ at: UInt64, _ n: UInt64) -> Int { Int((head.word(at: at / 64 * 8) >> (at % 64)) & ((1 << n) - 1)) }
        let kind = bits(L.state_kind_bit, 3), compact = bits(L.state_compact_bit, 1), ascii = bits(L.state_ascii_bit, 1)
        guard compact == 1, (0...4096).contains(length), [1, 2, 4].contains(kind) else { return nil }
        let data = address + (ascii == 1 ? L.ascii_size : L.compact_size)
        guard let raw = memory.bytes(data, length * kind) else { return nil }
        var scalars = String.UnicodeScalarView()
        for i in 0..<length {
            var value: UInt32 = 0
            for k in 0..<kind { value |= UInt32(raw[i * kind + k]) << (8 * k) }
            scalars.append(Unicode.Scalar(value) ?? "?")
        }
        return String(scalars)
    }
}
